package gemel.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** {@code (x - mean) / sqrt(var + eps) * gamma + beta} per row, variance biased, as torch's layer_norm. */
public record LayerNorm(float[] gamma, float[] beta, float eps) {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

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
            int i = 0;
            for (int end = F.loopBound(n); i < end; i += F.length()) {
                FloatVector shift = beta == null ? FloatVector.zero(F) : FloatVector.fromArray(F, beta, i);
                FloatVector.fromArray(F, x, o + i).sub(m).mul(rstd).mul(FloatVector.fromArray(F, gamma, i)).add(shift).intoArray(out, o + i);
            }
            for (; i < n; i++) out[o + i] = (x[o + i] - m) * rstd * gamma[i] + (beta == null ? 0 : beta[i]);
        }
    }
}
