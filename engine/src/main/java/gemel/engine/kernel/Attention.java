package gemel.engine.kernel;

import java.util.Arrays;

/**
 * Scaled dot-product attention, with grouped key/value heads, an optional causal limit, padding
 * masks and keys spread over several spans (a shared prefix, then a row's own positions). Causality
 * is always the caller's choice: encoders pass every position as visible.
 */
public final class Attention {
    private Attention() {}

    /**
     * Keys and values of {@code length} consecutive positions: position j's vector for the head at
     * {@code headOffset} starts at {@code offset + j * stride + headOffset} in both arrays.
     */
    public record Span(float[] keys, float[] values, int offset, int stride, int length) {}

    /**
     * One query head q[qOff .. qOff + headDim) attends to the first {@code visible} positions of the
     * concatenated spans, skipping positions j with {@code keyMask[maskOff + j] == 0} (keyMask may be
     * null), with scores {@code scale * q.k}. Writes the weighted sum of values to out[outOff ..];
     * a query that sees no position gets zeros. {@code scores} is scratch of at least {@code visible}.
     */
    public static void attend(float[] q, int qOff, int headDim, float scale, Span[] spans, int headOffset,
                              int visible, int[] keyMask, int maskOff, float[] scores, float[] out, int outOff) {
        attend(q, qOff, headDim, scale, spans, headOffset, visible, keyMask, maskOff, scores, out, outOff, true);
    }

    /** The scalar twin of {@link #attend}. */
    public static void attendScalar(float[] q, int qOff, int headDim, float scale, Span[] spans, int headOffset,
                                    int visible, int[] keyMask, int maskOff, float[] scores, float[] out, int outOff) {
        attend(q, qOff, headDim, scale, spans, headOffset, visible, keyMask, maskOff, scores, out, outOff, false);
    }

    private static void attend(float[] q, int qOff, int headDim, float scale, Span[] spans, int headOffset,
                               int visible, int[] keyMask, int maskOff, float[] scores, float[] out, int outOff, boolean vector) {
        boolean any = false;
        int j = 0;
        for (Span s : spans) {
            for (int p = 0; p < s.length && j < visible; p++, j++) {
                if (keyMask != null && keyMask[maskOff + j] == 0) {
                    scores[j] = Float.NEGATIVE_INFINITY;
                    continue;
                }
                int k = s.offset + p * s.stride + headOffset;
                scores[j] = scale * (vector ? Vectors.dot(q, qOff, s.keys, k, headDim) : Vectors.dotScalar(q, qOff, s.keys, k, headDim));
                any = true;
            }
        }
        if (j < visible) throw new IllegalArgumentException("attention: " + visible + " positions visible but the spans hold " + j);
        Arrays.fill(out, outOff, outOff + headDim, 0f);
        if (!any) return;
        Softmax.inPlace(scores, 0, visible);
        j = 0;
        for (Span s : spans) {
            for (int p = 0; p < s.length && j < visible; p++, j++) {
                float w = scores[j];
                if (w == 0) continue;
                int v = s.offset + p * s.stride + headOffset;
                if (vector) Vectors.axpy(w, s.values, v, out, outOff, headDim);
                else Vectors.axpyScalar(w, s.values, v, out, outOff, headDim);
            }
        }
    }

    /**
     * Self-attention of {@code tokens} positions on contiguous q [tokens, heads * headDim] and
     * k, v [tokens, kvHeads * headDim]; {@code mask} [tokens] (1 = real, 0 = padding) or null.
     * Writes out [tokens, heads * headDim]. Parallel over heads and query positions.
     */
    public static void selfAttention(float[] q, float[] k, float[] v, int tokens, int heads, int kvHeads, int headDim,
                                     float scale, boolean causal, int[] mask, float[] out) {
        if (heads % kvHeads != 0) throw new IllegalArgumentException("attention: " + heads + " heads do not group into " + kvHeads + " key/value heads");
        Span[] spans = {new Span(k, v, 0, kvHeads * headDim, tokens)};
        int group = heads / kvHeads;
        int chunk = Math.max(1, Math.min(tokens, 64));
        int chunks = (tokens + chunk - 1) / chunk;
        Parallel.forEach(heads * chunks, task -> {
            int h = task / chunks, t0 = (task % chunks) * chunk;
            float[] scores = new float[tokens];
            for (int t = t0; t < Math.min(tokens, t0 + chunk); t++) {
                int qo = (t * heads + h) * headDim;
                attend(q, qo, headDim, scale, spans, (h / group) * headDim, causal ? t + 1 : tokens, mask, 0, scores, out, qo);
            }
        });
    }
}
