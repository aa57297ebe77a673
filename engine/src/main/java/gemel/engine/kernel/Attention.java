package gemel.engine.kernel;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Scaled dot-product attention, with grouped key/value heads, an optional causal limit, padding
 * masks and keys spread over several spans (a shared prefix, then a row's own positions). Causality
 * is always the caller's choice: encoders pass every position as visible.
 *
 * <p>Keys are stored dimension-major (for each dimension, a run of positions) so that the scores of
 * a query against a vector's worth of positions build up with plain multiply-adds and no horizontal
 * sums; values are stored position-major and summed into a few vector accumulators.
 */
public final class Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private Attention() {}

    /**
     * Keys and values of {@code length} consecutive positions of one head: dimension d of the key of
     * position j is {@code keys[keyOffset + d * keyStride + j]}; its value vector starts at
     * {@code values[valueOffset + j * valueStride]}.
     */
    public record Span(float[] keys, int keyOffset, int keyStride, float[] values, int valueOffset, int valueStride, int length) {}

    /**
     * One query head q[qOff .. qOff + headDim) attends to the first {@code visible} positions of the
     * concatenated spans, skipping positions j with {@code keyMask[maskOff + j] == 0} (keyMask may be
     * null), with scores {@code scale * q.k}. Writes the weighted sum of values to out[outOff ..];
     * a query that sees no position gets zeros. {@code scores} is scratch of at least {@code visible}.
     */
    public static void attend(float[] q, int qOff, int headDim, float scale, Span[] spans,
                              int visible, int[] keyMask, int maskOff, float[] scores, float[] out, int outOff) {
        checkSpans(spans, visible);
        int base = 0;
        for (Span s : spans) {
            int n = Math.min(s.length, visible - base);
            if (n <= 0) break;
            int j = 0;
            for (; j + 4 * L <= n; j += 4 * L) scores4(q, qOff, headDim, scale, s, j, scores, base + j);
            for (; j + L <= n; j += L) {
                FloatVector acc = FloatVector.zero(F);
                for (int d = 0; d < headDim; d++)
                    acc = FloatVector.fromArray(F, s.keys, s.keyOffset + d * s.keyStride + j).fma(FloatVector.broadcast(F, q[qOff + d]), acc);
                acc.mul(scale).intoArray(scores, base + j);
            }
            for (; j < n; j++) scores[base + j] = scale * keyDot(q, qOff, headDim, s, j);
            base += n;
        }
        if (!maskScores(scores, visible, keyMask, maskOff)) {
            Arrays.fill(out, outOff, outOff + headDim, 0f);
            return;
        }
        Softmax.inPlace(scores, 0, visible);
        int d0 = 0;
        for (; d0 + 4 * L <= headDim; d0 += 4 * L) sumValues4(spans, visible, scores, d0, out, outOff);
        for (; d0 + L <= headDim; d0 += L) sumValues1(spans, visible, scores, d0, out, outOff);
        for (; d0 < headDim; d0++) out[outOff + d0] = sumValuesScalar(spans, visible, scores, d0);
    }

    /** The scalar twin of {@link #attend}. */
    public static void attendScalar(float[] q, int qOff, int headDim, float scale, Span[] spans,
                                    int visible, int[] keyMask, int maskOff, float[] scores, float[] out, int outOff) {
        checkSpans(spans, visible);
        int base = 0;
        for (Span s : spans) {
            for (int j = 0; j < s.length && base < visible; j++, base++) scores[base] = scale * keyDot(q, qOff, headDim, s, j);
        }
        if (!maskScores(scores, visible, keyMask, maskOff)) {
            Arrays.fill(out, outOff, outOff + headDim, 0f);
            return;
        }
        Softmax.inPlaceScalar(scores, 0, visible);
        for (int d = 0; d < headDim; d++) out[outOff + d] = sumValuesScalar(spans, visible, scores, d);
    }

    private static void checkSpans(Span[] spans, int visible) {
        int held = 0;
        for (Span s : spans) held += s.length;
        if (held < visible) throw new IllegalArgumentException("attention: " + visible + " positions visible but the spans hold " + held);
    }

    /** Scores of positions [j, j + 4L) of a span, in four independent accumulators (one multiply-add chain would stall). */
    private static void scores4(float[] q, int qOff, int headDim, float scale, Span s, int j, float[] scores, int at) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < headDim; d++) {
            FloatVector qd = FloatVector.broadcast(F, q[qOff + d]);
            int k = s.keyOffset + d * s.keyStride + j;
            a0 = FloatVector.fromArray(F, s.keys, k).fma(qd, a0);
            a1 = FloatVector.fromArray(F, s.keys, k + L).fma(qd, a1);
            a2 = FloatVector.fromArray(F, s.keys, k + 2 * L).fma(qd, a2);
            a3 = FloatVector.fromArray(F, s.keys, k + 3 * L).fma(qd, a3);
        }
        a0.mul(scale).intoArray(scores, at);
        a1.mul(scale).intoArray(scores, at + L);
        a2.mul(scale).intoArray(scores, at + 2 * L);
        a3.mul(scale).intoArray(scores, at + 3 * L);
    }

    private static float keyDot(float[] q, int qOff, int headDim, Span s, int j) {
        float sum = 0;
        for (int d = 0; d < headDim; d++) sum += q[qOff + d] * s.keys[s.keyOffset + d * s.keyStride + j];
        return sum;
    }

    /** Sets masked scores to -infinity; false when no position is left. */
    private static boolean maskScores(float[] scores, int visible, int[] keyMask, int maskOff) {
        if (keyMask == null) return visible > 0;
        boolean any = false;
        for (int j = 0; j < visible; j++) {
            if (keyMask[maskOff + j] == 0) scores[j] = Float.NEGATIVE_INFINITY;
            else any = true;
        }
        return any;
    }

    /** out[d0 .. d0 + 4L) = sum over visible positions of weight * value, in four vector accumulators. */
    private static void sumValues4(Span[] spans, int visible, float[] weights, int d0, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int base = 0;
        for (Span s : spans) {
            int n = Math.min(s.length, visible - base);
            for (int j = 0; j < n; j++) {
                if (weights[base + j] == 0) continue;
                FloatVector w = FloatVector.broadcast(F, weights[base + j]);
                int v = s.valueOffset + j * s.valueStride + d0;
                a0 = FloatVector.fromArray(F, s.values, v).fma(w, a0);
                a1 = FloatVector.fromArray(F, s.values, v + L).fma(w, a1);
                a2 = FloatVector.fromArray(F, s.values, v + 2 * L).fma(w, a2);
                a3 = FloatVector.fromArray(F, s.values, v + 3 * L).fma(w, a3);
            }
            base += Math.max(n, 0);
        }
        a0.intoArray(out, outOff + d0);
        a1.intoArray(out, outOff + d0 + L);
        a2.intoArray(out, outOff + d0 + 2 * L);
        a3.intoArray(out, outOff + d0 + 3 * L);
    }

    private static void sumValues1(Span[] spans, int visible, float[] weights, int d0, float[] out, int outOff) {
        FloatVector a = FloatVector.zero(F);
        int base = 0;
        for (Span s : spans) {
            int n = Math.min(s.length, visible - base);
            for (int j = 0; j < n; j++) {
                float w = weights[base + j];
                if (w != 0) a = FloatVector.fromArray(F, s.values, s.valueOffset + j * s.valueStride + d0).fma(FloatVector.broadcast(F, w), a);
            }
            base += Math.max(n, 0);
        }
        a.intoArray(out, outOff + d0);
    }

    private static float sumValuesScalar(Span[] spans, int visible, float[] weights, int d) {
        float sum = 0;
        int base = 0;
        for (Span s : spans) {
            for (int j = 0; j < s.length && base < visible; j++, base++) sum += weights[base] * s.values[s.valueOffset + j * s.valueStride + d];
        }
        return sum;
    }

    /**
     * Self-attention of {@code tokens} positions on contiguous q [tokens, heads * headDim] and
     * k, v [tokens, kvHeads * headDim]; {@code mask} [tokens] (1 = real, 0 = padding) or null.
     * Writes out [tokens, heads * headDim]. Parallel over heads and query positions.
     */
    public static void selfAttention(float[] q, float[] k, float[] v, int tokens, int heads, int kvHeads, int headDim,
                                     float scale, boolean causal, int[] mask, float[] out) {
        if (heads % kvHeads != 0) throw new IllegalArgumentException("attention: " + heads + " heads do not group into " + kvHeads + " key/value heads");
        int kvWidth = kvHeads * headDim, group = heads / kvHeads;
        float[] keys = new float[k.length]; // [kvHeads, headDim, tokens]
        for (int t = 0; t < tokens; t++) {
            for (int g = 0; g < kvHeads; g++) {
                for (int d = 0; d < headDim; d++) keys[(g * headDim + d) * tokens + t] = k[t * kvWidth + g * headDim + d];
            }
        }
        int chunk = Math.max(1, Math.min(tokens, 64));
        int chunks = (tokens + chunk - 1) / chunk;
        Parallel.forEach(heads * chunks, task -> {
            int h = task / chunks, t0 = (task % chunks) * chunk, g = h / group;
            Span[] spans = {new Span(keys, g * headDim * tokens, tokens, v, g * headDim, kvWidth, tokens)};
            float[] scores = new float[tokens];
            for (int t = t0; t < Math.min(tokens, t0 + chunk); t++) {
                int qo = (t * heads + h) * headDim;
                attend(q, qo, headDim, scale, spans, causal ? t + 1 : tokens, mask, 0, scores, out, qo);
            }
        });
    }
}
