package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AttentionTest {

    /** Attention written out in double precision, straight from its definition. */
    private static double[] bruteForce(float[] q, float[] k, float[] v, int tokens, int heads, int kvHeads, int hd,
                                       float scale, boolean causal, int[] mask) {
        double[] out = new double[tokens * heads * hd];
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                int g = h / (heads / kvHeads);
                double[] s = new double[tokens];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < tokens; j++) {
                    boolean seen = (!causal || j <= t) && (mask == null || mask[j] == 1);
                    if (!seen) {
                        s[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double dot = 0;
                    for (int i = 0; i < hd; i++) dot += (double) q[(t * heads + h) * hd + i] * k[(j * kvHeads + g) * hd + i];
                    s[j] = scale * dot;
                    max = Math.max(max, s[j]);
                }
                if (max == Double.NEGATIVE_INFINITY) continue;
                double sum = 0;
                for (int j = 0; j < tokens; j++) sum += s[j] = Math.exp(s[j] - max);
                for (int j = 0; j < tokens; j++) {
                    for (int i = 0; i < hd; i++) out[(t * heads + h) * hd + i] += s[j] / sum * v[(j * kvHeads + g) * hd + i];
                }
            }
        }
        return out;
    }

    @Test
    void selfAttentionMatchesTheDefinition() {
        Random random = new Random(5);
        int[][] shapes = {{1, 1, 1, 4}, {7, 4, 2, 8}, {13, 6, 3, 5}, {70, 2, 1, 17}, {9, 3, 3, 16}, {20, 2, 1, 80}, {3, 2, 2, 128}};
        for (int[] s : shapes) {
            int tokens = s[0], heads = s[1], kvHeads = s[2], hd = s[3];
            float[] q = TestTensors.gaussian(random, tokens * heads * hd, 1);
            float[] k = TestTensors.gaussian(random, tokens * kvHeads * hd, 1);
            float[] v = TestTensors.gaussian(random, tokens * kvHeads * hd, 1);
            int[] mask = new int[tokens];
            for (int j = 0; j < tokens; j++) mask[j] = j < tokens / 3 ? 0 : 1; // left padding
            for (boolean causal : new boolean[] {true, false}) {
                for (int[] m : new int[][] {null, mask}) {
                    float scale = (float) (1 / Math.sqrt(hd));
                    float[] out = new float[q.length];
                    Attention.selfAttention(q, k, v, tokens, heads, kvHeads, hd, scale, causal, m, out);
                    double[] expected = bruteForce(q, k, v, tokens, heads, kvHeads, hd, scale, causal, m);
                    for (int i = 0; i < out.length; i++)
                        assertEquals(expected[i], out[i], 1e-5, "shape " + java.util.Arrays.toString(s) + " causal " + causal + " at " + i);
                }
            }
        }
    }

    /** Keys [positions, kvWidth] row-major, stored dimension-major for one head as spans want them. */
    private static float[] keysOfHead(float[] k, int positions, int kvWidth, int headOffset, int hd, int from, int to, int pad) {
        float[] out = new float[pad + hd * (to - from)];
        for (int j = from; j < to; j++) {
            for (int d = 0; d < hd; d++) out[pad + d * (to - from) + j - from] = k[j * kvWidth + headOffset + d];
        }
        return out;
    }

    @Test
    void spansAndScalarTwinAgreeWithOneContiguousSpan() {
        Random random = new Random(6);
        int kvWidth = 3 * 24, hd = 24, head = 2 * hd;
        for (int positions : new int[] {23, 150}) {
            float[] k = TestTensors.gaussian(random, positions * kvWidth, 1), v = TestTensors.gaussian(random, positions * kvWidth, 1);
            // the same positions as one span, and split into a prefix span and a second span stored at offsets in other arrays
            int split = 9;
            Attention.Span[] whole = {new Attention.Span(keysOfHead(k, positions, kvWidth, head, hd, 0, positions, 0), 0, positions, v, head, kvWidth, positions)};
            float[] v2 = new float[5 + (positions - split) * hd];
            for (int j = split; j < positions; j++) System.arraycopy(v, j * kvWidth + head, v2, 5 + (j - split) * hd, hd);
            Attention.Span[] parts = {
                    new Attention.Span(keysOfHead(k, positions, kvWidth, head, hd, 0, split, 0), 0, split, v, head, kvWidth, split),
                    new Attention.Span(keysOfHead(k, positions, kvWidth, head, hd, split, positions, 3), 3, positions - split, v2, 5, hd, positions - split)};
            float[] q = TestTensors.gaussian(random, hd, 1);
            int[] mask = new int[positions];
            for (int j = 0; j < positions; j++) mask[j] = j % 5 == 1 ? 0 : 1;
            float[] a = new float[hd], b = new float[hd], c = new float[hd], scores = new float[positions];
            for (int visible : new int[] {1, 2, 8, 9, 10, 70, positions}) {
                if (visible > positions) continue;
                Attention.attend(q, 0, hd, 0.3f, whole, visible, mask, 0, scores, a, 0);
                Attention.attend(q, 0, hd, 0.3f, parts, visible, mask, 0, scores, b, 0);
                Attention.attendScalar(q, 0, hd, 0.3f, parts, visible, mask, 0, scores, c, 0);
                assertTrue(TestTensors.maxAbsDiff(a, b, hd) < 1e-5 && TestTensors.maxAbsDiff(a, c, hd) < 1e-5, positions + " positions, visible " + visible);
            }
            int[] allPadding = new int[positions];
            Attention.attend(q, 0, hd, 1, whole, positions, allPadding, 0, scores, a, 0);
            for (float x : a) assertEquals(0, x, "a query that sees nothing gets zeros");
        }
    }

    /**
     * Four queries at once give exactly what four single calls give: head sizes with and without a
     * 4L block and a tail, causal and not, two spans, masked keys, and queries that see nothing.
     */
    @Test
    void fourQueriesAtOnceEqualFourSingleCalls() {
        Random random = new Random(8);
        for (int hd : new int[] {64, 80, 24, 7}) {
            int kvWidth = 2 * hd, head = hd, positions = 150, split = 37;
            float[] k = TestTensors.gaussian(random, positions * kvWidth, 1), v = TestTensors.gaussian(random, positions * kvWidth, 1);
            Attention.Span[] spans = {
                    new Attention.Span(keysOfHead(k, positions, kvWidth, head, hd, 0, split, 0), 0, split, v, head, kvWidth, split),
                    new Attention.Span(keysOfHead(k, positions, kvWidth, head, hd, split, positions, 3), 3, positions - split, v, split * kvWidth + head, kvWidth, positions - split)};
            int qStride = 3 * hd + 1, outStride = 2 * hd + 3;
            float[] q = TestTensors.gaussian(random, 4 * qStride, 1);
            int[] mask = new int[positions];
            for (int j = 0; j < positions; j++) mask[j] = j % 7 == 2 || j < 3 ? 0 : 1;
            for (boolean causal : new boolean[] {true, false}) {
                for (int visible : new int[] {1, 2, 3, 5, 36, 37, 38, 64, 100, 147}) {
                    float[] four = new float[4 * outStride], one = new float[4 * outStride];
                    float[] scores = new float[4 * positions];
                    Attention.attendFour(q, 0, qStride, hd, 0.4f, spans, visible, causal, mask, 0, scores, four, 0, outStride);
                    for (int i = 0; i < 4; i++)
                        Attention.attend(q, i * qStride, hd, 0.4f, spans, visible + (causal ? i : 0), mask, 0, scores, one, i * outStride);
                    for (int i = 0; i < four.length; i++)
                        assertEquals(one[i], four[i], "head " + hd + (causal ? " causal" : "") + " visible " + visible + " at " + i);
                }
            }
        }
    }

    /**
     * Two heads at once give exactly what two single calls give: head sizes with and without a 4L block and a tail, two
     * spans (a forked row's shared prefix, then its own positions), masked keys, and a query that sees nothing.
     */
    @Test
    void twoHeadsAtOnceEqualTwoSingleCalls() {
        Random random = new Random(9);
        for (int hd : new int[] {64, 80, 24, 7}) {
            int positions = 150, split = 37, kvWidth = 2 * hd;
            float[] k = TestTensors.gaussian(random, positions * kvWidth, 1), v = TestTensors.gaussian(random, positions * kvWidth, 1);
            Attention.Span[][] heads = new Attention.Span[2][];
            for (int h = 0; h < 2; h++)
                heads[h] = new Attention.Span[] {
                        new Attention.Span(keysOfHead(k, positions, kvWidth, h * hd, hd, 0, split, 0), 0, split, v, h * hd, kvWidth, split),
                        new Attention.Span(keysOfHead(k, positions, kvWidth, h * hd, hd, split, positions, 3), 3, positions - split, v,
                                split * kvWidth + h * hd, kvWidth, positions - split)};
            float[] q = TestTensors.gaussian(random, 3 * hd, 1);
            int[] mask = new int[positions];
            for (int j = 0; j < positions; j++) mask[j] = j % 7 == 2 || j < 3 ? 0 : 1;
            for (int visible : new int[] {1, 3, 5, 36, 37, 38, 64, 100, 150}) {
                float[] two = new float[3 * hd], one = new float[3 * hd];
                Attention.attendTwo(q, 0, 2 * hd, hd, 0.4f, heads[0], heads[1], visible, mask, 0, new float[2 * visible], two, 2 * hd, 0);
                Attention.attend(q, 0, hd, 0.4f, heads[0], visible, mask, 0, new float[visible], one, 2 * hd);
                Attention.attend(q, 2 * hd, hd, 0.4f, heads[1], visible, mask, 0, new float[visible], one, 0);
                for (int i = 0; i < one.length; i++) assertEquals(one[i], two[i], "head " + hd + " visible " + visible + " at " + i);
                if (visible <= 3) for (int i = 0; i < 3 * hd; i++) assertEquals(0, two[i], "a query that sees nothing gets zeros");
            }
        }
    }
}
