package gemel.engine.kernel;

/**
 * Sums over a row of floats in double precision, as the norms take their moments: four running sums, each waiting only
 * for its own last add, combined at the end in a fixed order. With one running sum every add waited for the one before:
 * LayerNorm took 2.9 % of OPT-125m's 512-token prompts so, 1.4 ns a value. Plain Java, not the Vector API: before the JIT
 * has compiled them, vector operations allocate, and in vectors of doubles the norms added 0.5-0.7 s to a model's first
 * prompt (OPT-125m, 256 tokens: 4.1-4.7 s against 3.3-4.0 s).
 */
final class DoubleSums {
    private DoubleSums() {}

    /** The sum of x[off .. off + n). */
    static double sum(float[] x, int off, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += x[off + i];
            s1 += x[off + i + 1];
            s2 += x[off + i + 2];
            s3 += x[off + i + 3];
        }
        for (; i < n; i++) s0 += x[off + i];
        return (s0 + s1) + (s2 + s3);
    }

    /** The sum of (x[i] - center)^2 over x[off .. off + n): with center 0, the sum of squares. */
    static double squares(float[] x, int off, int n, double center) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            double d0 = x[off + i] - center, d1 = x[off + i + 1] - center, d2 = x[off + i + 2] - center, d3 = x[off + i + 3] - center;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        for (; i < n; i++) {
            double d = x[off + i] - center;
            s0 += d * d;
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** The sum of x[i] * y[i] over [off, off + n), each product taken in double. */
    static double products(float[] x, float[] y, int off, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += (double) x[off + i] * y[off + i];
            s1 += (double) x[off + i + 1] * y[off + i + 1];
            s2 += (double) x[off + i + 2] * y[off + i + 2];
            s3 += (double) x[off + i + 3] * y[off + i + 3];
        }
        for (; i < n; i++) s0 += (double) x[off + i] * y[off + i];
        return (s0 + s1) + (s2 + s3);
    }
}
