package gemel.engine.grad;

import gemel.engine.config.HfConfig;

/**
 * Rotary position embedding in Hugging Face's rotate-half convention: for {@code i < h = headDim/2},
 * {@code y[i] = x[i] cos - x[i+h] sin}, {@code y[i+h] = x[i+h] cos + x[i] sin}, angle {@code p * invFreq[i]}.
 * {@code rope_scaling} "linear" and "llama3" rescale the inverse frequencies as transformers does.
 * The backward applies the transposed rotation.
 */
final class Rotary {
    private final double[] invFreq; // [headDim / 2]
    final int headDim;

    Rotary(double[] invFreq, int headDim) {
        this.invFreq = invFreq;
        this.headDim = headDim;
    }

    static Rotary fromConfig(HfConfig config, int headDim) {
        double theta = config.number("rope_theta", 10000.0);
        int half = headDim / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        HfConfig scaling = config.sub("rope_scaling");
        if (config.has("rope_scaling")) {
            String type = scaling.string("rope_type", scaling.string("type", ""));
            switch (type) {
                case "linear" -> {
                    double factor = scaling.number("factor");
                    for (int i = 0; i < half; i++) inv[i] /= factor;
                }
                case "llama3" -> llama3(inv, scaling);
                case "default" -> { }
                default -> throw new IllegalArgumentException(config.file() + ": unsupported rope_scaling type \"" + type + "\" (gemel supports linear, llama3)");
            }
        }
        return new Rotary(inv, headDim);
    }

    private static void llama3(double[] inv, HfConfig s) {
        double factor = s.number("factor"), low = s.number("low_freq_factor"), high = s.number("high_freq_factor");
        double context = s.number("original_max_position_embeddings");
        double lowWavelen = context / low, highWavelen = context / high;
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowWavelen) inv[i] = inv[i] / factor;
            else if (wavelen >= highWavelen) {
                double smooth = (context / wavelen - low) / (high - low);
                inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
            }
        }
    }

    /** Rotates {@code heads} vectors of one row in place at {@code position}; {@code inverse} applies the transpose (backward). */
    void rotate(double[] x, int offset, int heads, int position, boolean inverse) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            double angle = position * invFreq[i], cos = Math.cos(angle), sin = inverse ? -Math.sin(angle) : Math.sin(angle);
            for (int h = 0; h < heads; h++) {
                int a = offset + h * headDim + i, b = a + half;
                double xa = x[a], xb = x[b];
                x[a] = xa * cos - xb * sin;
                x[b] = xb * cos + xa * sin;
            }
        }
    }
}
