package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The training attention against a brute-force double-precision attention written from the
 * definition, and its backward against central differences of that brute force, at lengths that run
 * every path of the position-vector products (four vectors, one vector, scalar tail).
 */
class CausalSelfAttentionTest {

    /** softmax(scale * q k^T) v over visible keys, in double; a padding query gets zeros. */
    private static double[] bruteForce(CausalSelfAttention a, double[] q, double[] k, double[] v) {
        int T = a.tokens(), hd = a.headDim(), qw = a.heads() * hd, kw = a.kvHeads() * hd, group = a.heads() / a.kvHeads();
        double[] out = new double[a.batch() * T * qw];
        for (int b = 0; b < a.batch(); b++)
            for (int h = 0; h < a.heads(); h++)
                for (int i = 0; i < T; i++) {
                    if (a.mask()[b * T + i] == 0) continue;
                    double[] s = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j <= i; j++) {
                        boolean visible = a.mask()[b * T + j] != 0 && (a.window() == 0 || i - j < a.window());
                        if (!visible) { s[j] = Double.NaN; continue; }
                        for (int d = 0; d < hd; d++) s[j] += q[(b * T + i) * qw + h * hd + d] * k[(b * T + j) * kw + (h / group) * hd + d];
                        s[j] *= a.scale();
                        max = Math.max(max, s[j]);
                    }
                    for (int j = 0; j <= i; j++) if (!Double.isNaN(s[j])) sum += Math.exp(s[j] - max);
                    for (int j = 0; j <= i; j++) {
                        if (Double.isNaN(s[j])) continue;
                        double p = Math.exp(s[j] - max) / sum;
                        for (int d = 0; d < hd; d++) out[(b * T + i) * qw + h * hd + d] += p * v[(b * T + j) * kw + (h / group) * hd + d];
                    }
                }
        return out;
    }

    private static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static void check(String what, CausalSelfAttention a, long seed) {
        Random r = new Random(seed);
        int rows = a.batch() * a.tokens();
        float[] q = TestTensors.gaussian(r, rows * a.heads() * a.headDim(), 1);
        float[] k = TestTensors.gaussian(r, rows * a.kvHeads() * a.headDim(), 1);
        float[] v = TestTensors.gaussian(r, rows * a.kvHeads() * a.headDim(), 1);
        float[] dOut = TestTensors.gaussian(r, q.length, 1);
        double[] expected = bruteForce(a, doubles(q), doubles(k), doubles(v));
        float[] out = a.forward(q, k, v);
        for (int i = 0; i < out.length; i++) assertEquals(expected[i], out[i], 1e-5, what + " output " + i);

        // d <dOut, out> along a random direction of (q, k, v), against a central difference of the brute force
        CausalSelfAttention.Gradients g = a.backward(q, k, v, dOut);
        double[] dq = doubles(TestTensors.gaussian(r, q.length, 1)), dk = doubles(TestTensors.gaussian(r, k.length, 1)),
                dv = doubles(TestTensors.gaussian(r, v.length, 1)), weights = doubles(dOut);
        double analytic = dot(doubles(g.dq()), dq) + dot(doubles(g.dk()), dk) + dot(doubles(g.dv()), dv);
        double h = 1e-4;
        double[] plus = bruteForce(a, shifted(q, dq, h), shifted(k, dk, h), shifted(v, dv, h));
        double[] minus = bruteForce(a, shifted(q, dq, -h), shifted(k, dk, -h), shifted(v, dv, -h));
        double numeric = (dot(plus, weights) - dot(minus, weights)) / (2 * h);
        assertEquals(numeric, analytic, 1e-4 * Math.max(1, Math.abs(numeric)), what + " directional derivative");
        for (int b = 0; b < a.batch(); b++)
            for (int t = 0; t < a.tokens(); t++)
                if (a.mask()[b * a.tokens() + t] == 0)
                    for (int d = 0; d < a.kvHeads() * a.headDim(); d++) {
                        int at = (b * a.tokens() + t) * a.kvHeads() * a.headDim() + d;
                        assertEquals(0f, g.dk()[at], what + ": a padding key gets no gradient");
                        assertEquals(0f, g.dv()[at], what + ": a padding value gets no gradient");
                    }
    }

    private static double[] shifted(float[] x, double[] direction, double h) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] + h * direction[i];
        return y;
    }

    private static int[] mask(int batch, int tokens, int padFrom) {
        int[] m = new int[batch * tokens];
        for (int b = 0; b < batch; b++) for (int t = 0; t < tokens; t++) m[b * tokens + t] = b == batch - 1 && t >= padFrom ? 0 : 1;
        return m;
    }

    @Test
    void longSequencesWithGroupedHeadsAndPadding() {
        // 150 positions: rows of four vectors, single vectors and a scalar tail whatever the vector length
        check("GQA", new CausalSelfAttention(2, 150, 4, 2, 8, 0.35f, mask(2, 150, 131), 0), 1);
    }

    /** 83 dimensions: blocks of four vectors, a single vector and a scalar tail of a head, for any vector length up to 16. */
    @Test
    void wideHeadsWithAPartialLastBlockOfQueries() {
        check("wide", new CausalSelfAttention(2, 70, 4, 2, 83, 0.11f, mask(2, 70, 61), 0), 3);
        check("wide window", new CausalSelfAttention(1, 70, 2, 2, 83, 0.11f, mask(1, 70, 70), 29), 4);
    }

    /** Several blocks of queries, a window wider than a block (its first keys move past whole panels), padding at the end. */
    @Test
    void blocksOfQueriesWithAWindowAndRealHeadSize() {
        check("blocks", new CausalSelfAttention(2, 260, 4, 2, 64, 0.125f, mask(2, 260, 200), 100), 5);
    }

    @Test
    void slidingWindowAndOddHeadSize() {
        check("window", new CausalSelfAttention(1, 90, 2, 1, 5, 0.45f, mask(1, 90, 90), 37), 2);
    }

    /**
     * The kernels reuse each thread's buffers: a run right after one that filled them with NaNs and infinities (longer,
     * wider heads) gives the same bits as before it, forward and backward.
     */
    @Test
    void whatAnEarlierRunLeftInTheBuffersDoesNotLeakIntoTheNext() {
        CausalSelfAttention a = new CausalSelfAttention(2, 70, 2, 1, 24, 0.2f, mask(2, 70, 50), 0);
        Random r = new Random(6);
        int rows = 2 * 70;
        float[] q = TestTensors.gaussian(r, rows * 2 * 24, 1), k = TestTensors.gaussian(r, rows * 24, 1), v = TestTensors.gaussian(r, rows * 24, 1);
        float[] dOut = TestTensors.gaussian(r, q.length, 1);
        float[] out = a.forward(q, k, v);
        CausalSelfAttention.Gradients g = a.backward(q, k, v, dOut);

        CausalSelfAttention poisoned = new CausalSelfAttention(1, 200, 4, 4, 40, 1f, mask(1, 200, 200), 0);
        float[] bad = new float[200 * 4 * 40];
        for (int i = 0; i < bad.length; i++) bad[i] = i % 3 == 0 ? Float.NaN : i % 3 == 1 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
        poisoned.forward(bad, bad, bad);
        poisoned.backward(bad, bad, bad, bad);

        assertArrayEquals(out, a.forward(q, k, v), "forward after a poisoned run");
        CausalSelfAttention.Gradients again = a.backward(q, k, v, dOut);
        assertArrayEquals(g.dq(), again.dq(), "dq after a poisoned run");
        assertArrayEquals(g.dk(), again.dk(), "dk after a poisoned run");
        assertArrayEquals(g.dv(), again.dv(), "dv after a poisoned run");
    }

    @Test
    void maskOfTheWrongSizeIsAnError() {
        var e = assertThrows(IllegalArgumentException.class, () -> new CausalSelfAttention(2, 5, 2, 2, 4, 1f, new int[9], 0));
        assertTrue(e.getMessage().contains("2 x 5"), e.getMessage());
    }
}
