package gemel.engine.kernel;

import java.util.function.IntConsumer;

/**
 * Input gradients of the per-row norms, from the norm's input x (the statistics are recomputed as
 * the forward computes them, so a pass keeps only x). Rows run in parallel blocks.
 * LayerNorm: {@code dx = rstd * (g - mean(g) - xhat * mean(g * xhat))} with {@code g = dy * gamma};
 * RMSNorm: {@code dx = r * g - x * r^3 * mean(g * x)} with {@code g = dy * weight}.
 */
public final class NormGradient {
    private static final int ROWS_PER_TASK = 32;

    private NormGradient() {}

    /** dx [rows, width] = d/dx of {@code norm} at x [rows, width], given dy [rows, width]. */
    public static void layerNorm(LayerNorm norm, float[] x, float[] dy, int rows, float[] dx) {
        int n = norm.width();
        float[] gamma = norm.gamma();
        forRowBlocks(rows, r -> {
            int o = r * n;
            double mean = DoubleSums.sum(x, o, n) / n; // the forward's moments, summed as LayerNorm sums them
            double rstd = 1 / Math.sqrt(DoubleSums.squares(x, o, n, mean) / n + norm.eps());
            double meanG = 0, meanGx = 0;
            for (int i = 0; i < n; i++) {
                double g = dy[o + i] * gamma[i];
                meanG += g;
                meanGx += g * (x[o + i] - mean) * rstd;
            }
            meanG /= n;
            meanGx /= n;
            for (int i = 0; i < n; i++)
                dx[o + i] = (float) (rstd * (dy[o + i] * gamma[i] - meanG - (x[o + i] - mean) * rstd * meanGx));
        });
    }

    /** dx [rows, width] = d/dx of {@code norm} at x [rows, width], given dy [rows, width]. */
    public static void rmsNorm(RmsNorm norm, float[] x, float[] dy, int rows, float[] dx) {
        int n = norm.width();
        float[] weight = norm.weight();
        forRowBlocks(rows, r -> {
            int o = r * n;
            double dot = 0;
            for (int i = 0; i < n; i++) dot += (double) dy[o + i] * weight[i] * x[o + i];
            double inv = 1 / Math.sqrt(DoubleSums.squares(x, o, n, 0) / n + norm.eps()), c = inv * inv * inv * dot / n; // as RmsNorm sums it
            for (int i = 0; i < n; i++) dx[o + i] = (float) (inv * dy[o + i] * weight[i] - c * x[o + i]);
        });
    }

    private static void forRowBlocks(int rows, IntConsumer row) {
        Parallel.forEach((rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK, block -> {
            for (int r = block * ROWS_PER_TASK; r < Math.min(rows, (block + 1) * ROWS_PER_TASK); r++) row.accept(r);
        });
    }
}
