package gemel.engine.kernel;

/** {@code (x - mean) / sqrt(var + eps) * gamma + beta} per row, variance biased, as torch's layer_norm. */
public record LayerNorm(float[] gamma, float[] beta, float eps) {

    public LayerNorm {
        if (beta != null && beta.length != gamma.length)
            throw new IllegalArgumentException("layer norm: weight has " + gamma.length + " entries, bias " + beta.length);
    }

    public int width() { return gamma.length; }

    /** Normalises each of the {@code rows} rows of {@code x} [rows, width] into {@code out} (may be {@code x}). */
    public void apply(float[] x, int rows, float[] out) {
        Parallel.forRows(rows, (r0, r1) -> applyRows(x, r0, r1, out));
    }

    private void applyRows(float[] x, int r0, int r1, float[] out) {
        int n = gamma.length;
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            double mean = DoubleSums.sum(x, o, n) / n;
            float rstd = (float) (1 / Math.sqrt(DoubleSums.squares(x, o, n, mean) / n + eps));
            float m = (float) mean;
            if (beta == null) { // a loop each, without a test inside
                for (int i = 0; i < n; i++) out[o + i] = (x[o + i] - m) * rstd * gamma[i] + 0f;
            } else {
                for (int i = 0; i < n; i++) out[o + i] = (x[o + i] - m) * rstd * gamma[i] + beta[i];
            }
        }
    }
}
