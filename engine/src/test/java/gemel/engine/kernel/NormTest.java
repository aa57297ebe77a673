package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class NormTest {

    @Test
    void layerNormOfKnownRows() {
        // row [1, 2, 3, 4]: mean 2.5, biased variance 1.25
        float[] x = {1, 2, 3, 4, 5, 5, 5, 5};
        float[] gamma = {1, 2, 1, 1}, beta = {0, 0, 1, -1};
        float[] out = new float[8];
        new LayerNorm(gamma, beta, 1e-5f).apply(x, 2, out);
        double rstd = 1 / Math.sqrt(1.25 + 1e-5);
        double[] expected = {-1.5 * rstd, 2 * -0.5 * rstd, 0.5 * rstd + 1, 1.5 * rstd - 1, 0, 0, 1, -1};
        for (int i = 0; i < 8; i++) assertEquals(expected[i], out[i], 1e-6, "entry " + i);
    }

    @Test
    void rmsNormOfAKnownRowInPlace() {
        float[] x = {3, -4};
        new RmsNorm(new float[] {1, 0.5f}, 1e-6f).apply(x, 1, x);
        double rms = Math.sqrt((9 + 16) / 2.0 + 1e-6);
        assertEquals(3 / rms, x[0], 1e-6);
        assertEquals(-4 / rms * 0.5, x[1], 1e-6);
    }

    /** Rows as wide as models' and of every remainder, so that the vector loops and their tails both count. */
    @Test
    void normsOfWideRowsMatchADoublePrecisionReference() {
        java.util.Random random = new java.util.Random(11);
        for (int n : new int[] {1, 7, 31, 64, 100, 768, 2053}) {
            int rows = 3;
            float[] x = TestTensors.gaussian(random, rows * n, 3);
            for (int i = 0; i < x.length; i++) x[i] += 40; // a mean far from zero: the deviations must be taken from it
            float[] gamma = TestTensors.gaussian(random, n, 1), beta = TestTensors.gaussian(random, n, 1);
            float[] layer = new float[x.length], rms = new float[x.length];
            new LayerNorm(gamma, beta, 1e-5f).apply(x, rows, layer);
            new RmsNorm(gamma, 1e-6f).apply(x, rows, rms);
            for (int r = 0; r < rows; r++) {
                double sum = 0, squares = 0, deviations = 0;
                for (int i = 0; i < n; i++) sum += x[r * n + i];
                double mean = sum / n;
                for (int i = 0; i < n; i++) {
                    squares += (double) x[r * n + i] * x[r * n + i];
                    deviations += (x[r * n + i] - mean) * (x[r * n + i] - mean);
                }
                double rstd = 1 / Math.sqrt(deviations / n + 1e-5), rmsInverse = 1 / Math.sqrt(squares / n + 1e-6);
                for (int i = 0; i < n; i++) {
                    int at = r * n + i;
                    double expected = (x[at] - mean) * rstd * gamma[i] + beta[i];
                    assertEquals(expected, layer[at], 2e-5 * (1 + Math.abs(expected)), "layer norm, width " + n + ", row " + r + ", entry " + i);
                    double scaled = x[at] * rmsInverse * gamma[i];
                    assertEquals(scaled, rms[at], 1e-6 * (1 + Math.abs(scaled)), "rms norm, width " + n + ", row " + r + ", entry " + i);
                }
            }
        }
    }

    @Test
    void softmaxVectorPathMatchesScalarTwin() {
        java.util.Random random = new java.util.Random(8);
        for (int n : new int[] {1, 5, 16, 33, 200}) {
            float[] x = TestTensors.gaussian(random, n + 1, 10);
            if (n > 1) x[n / 2 + 1] = Float.NEGATIVE_INFINITY;
            float[] y = x.clone();
            Softmax.inPlace(x, 1, n);
            Softmax.inPlaceScalar(y, 1, n);
            for (int i = 0; i <= n; i++) assertEquals(y[i], x[i], 1e-6, "n " + n + " at " + i);
        }
    }

    @Test
    void softmaxSumsToOneAndIgnoresMinusInfinity() {
        float[] x = {9, 1000, 1001, Float.NEGATIVE_INFINITY, 9};
        Softmax.inPlace(x, 1, 3);
        assertEquals(1 / (1 + Math.E), x[1], 1e-6);
        assertEquals(Math.E / (1 + Math.E), x[2], 1e-6);
        assertEquals(0, x[3]);
        assertEquals(9, x[0]);
        assertEquals(9, x[4]);
    }
}
