package gemel.engine.kernel;

/** {@code x / sqrt(mean(x^2) + eps) * weight} per row, as Llama's RMSNorm (no mean subtraction, no bias). */
public record RmsNorm(float[] weight, float eps) {

    public int width() { return weight.length; }

    /** Normalises each of the {@code rows} rows of {@code x} [rows, width] into {@code out} (may be {@code x}). */
    public void apply(float[] x, int rows, float[] out) {
        Parallel.forRows(rows, (r0, r1) -> applyRows(x, r0, r1, out));
    }

    private void applyRows(float[] x, int r0, int r1, float[] out) {
        int n = weight.length;
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            float rstd = (float) (1 / Math.sqrt(DoubleSums.squares(x, o, n, 0) / n + eps));
            for (int i = 0; i < n; i++) out[o + i] = weight[i] * (x[o + i] * rstd);
        }
    }
}
