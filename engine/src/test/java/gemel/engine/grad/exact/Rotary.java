package gemel.engine.grad.exact;

import gemel.engine.config.HfConfig;
import gemel.engine.kernel.Rope;

/**
 * Rotary position embedding in Hugging Face's rotate-half convention: for {@code i < h = headDim/2},
 * {@code y[i] = x[i] cos - x[i+h] sin}, {@code y[i+h] = x[i+h] cos + x[i] sin}, angle {@code p * invFreq[i]}.
 * The inverse frequencies (with any {@code rope_scaling}) are the forward decoders' ({@link Rope}).
 * The backward applies the transposed rotation.
 */
final class Rotary {
    private final double[] invFreq; // [headDim / 2]
    final int headDim;

    Rotary(double[] invFreq, int headDim) {
        this.invFreq = invFreq;
        this.headDim = headDim;
    }

    /** The frequencies the forward decoders use ({@code rope_theta}, {@code rope_scaling}), in double. */
    static Rotary fromConfig(HfConfig config, int headDim) {
        float[] f = Rope.fromConfig(config, headDim).frequencies();
        double[] inv = new double[f.length];
        for (int i = 0; i < f.length; i++) inv[i] = f[i];
        return new Rotary(inv, headDim);
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
