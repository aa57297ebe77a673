package gemel.train;

/**
 * The feature mapper's part of the backward pass: the mapper is {@code tokens = W · feature + b}
 * ([k * width] from [dimClip]), so for the gradient {@code dTokens} of its k output tokens
 * {@code dW += dTokens ⊗ feature} and {@code db += dTokens}. Accumulates (+=) so every image of a
 * prompt (demonstrations and query) and every example of an accumulated batch add up.
 */
public final class MapperGradients {
    private MapperGradients() {
    }

    /**
     * Adds the contribution of one image: {@code feature = features[featureOffset .. + dimClip)},
     * {@code dTokens = dEmbeds[tokenOffset .. + outputs)} (the k mapped tokens, row-major).
     */
    public static void accumulate(float[] features, int featureOffset, int dimClip, double[] dEmbeds, int tokenOffset, int outputs,
                                  float[] gradWeight, float[] gradBias) {
        for (int o = 0; o < outputs; o++) {
            double g = dEmbeds[tokenOffset + o];
            if (g == 0) continue;
            gradBias[o] += (float) g;
            int row = o * dimClip;
            for (int i = 0; i < dimClip; i++) gradWeight[row + i] += (float) (g * features[featureOffset + i]);
        }
    }
}
