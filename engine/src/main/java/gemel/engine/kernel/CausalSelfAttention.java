package gemel.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal self-attention over whole sequences with its backward, for a pass that needs input
 * gradients. Grouped key/value heads, padding masks and an optional sliding window. The forward keeps
 * no probabilities: the backward recomputes each query's softmax row from q and k (as many products as
 * the forward, but memory O(rows * width) instead of O(heads * tokens^2)), then uses softmax's
 * {@code dz = p * (dp - sum(p * dp))}. A padding query attends to nothing (its output is zero) and
 * a padding key is never visible. Tasks run per (sequence, key/value head) on all cores: the query
 * heads of a group all add into its dk, dv. A task transposes its keys (and for the backward its
 * values) to [headDim, tokens] so that scores and {@code dp} build up a vector of positions at a time.
 *
 * @param mask   [batch, tokens], 1 real, 0 padding
 * @param window keys j with i - j >= window are invisible to query i; 0: no window
 */
public record CausalSelfAttention(int batch, int tokens, int heads, int kvHeads, int headDim, float scale, int[] mask, int window) {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    public CausalSelfAttention {
        if (heads % kvHeads != 0) throw new IllegalArgumentException(heads + " attention heads are not a multiple of " + kvHeads + " key/value heads");
        if (mask.length != batch * tokens) throw new IllegalArgumentException("mask has " + mask.length + " entries, " + batch + " x " + tokens + " expected");
    }

    /** q [rows, heads * headDim], k, v [rows, kvHeads * headDim] -> a new [rows, heads * headDim]. */
    public float[] forward(float[] q, float[] k, float[] v) {
        float[] out = new float[batch * tokens * heads * headDim];
        Parallel.forEach(batch * kvHeads, task -> {
            int b = task / kvHeads, kh = task % kvHeads;
            float[] p = new float[tokens], keys = transposed(k, b, kh);
            for (int h = kh * group(); h < (kh + 1) * group(); h++) {
                for (int i = 0; i < tokens; i++) {
                    int first = probabilities(q, keys, b, h, i, p);
                    if (first < 0) continue;
                    int qo = row(b, i) * heads * headDim + h * headDim;
                    for (int j = first; j <= i; j++)
                        if (p[j] != 0) Vectors.axpy(p[j], v, row(b, j) * kvWidth() + kh * headDim, out, qo, headDim);
                }
            }
        });
        return out;
    }

    /** Given dOut [rows, heads * headDim], the gradients of q, k and v (new arrays). */
    public Gradients backward(float[] q, float[] k, float[] v, float[] dOut) {
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        Parallel.forEach(batch * kvHeads, task -> {
            int b = task / kvHeads, kh = task % kvHeads;
            float[] p = new float[tokens], dp = new float[tokens], keys = transposed(k, b, kh), values = transposed(v, b, kh);
            for (int h = kh * group(); h < (kh + 1) * group(); h++) {
                for (int i = 0; i < tokens; i++) {
                    int first = probabilities(q, keys, b, h, i, p);
                    if (first < 0) continue;
                    int qo = row(b, i) * heads * headDim + h * headDim;
                    products(dOut, qo, values, first, i + 1, dp);
                    double pDotDp = 0;
                    for (int j = first; j <= i; j++) pDotDp += p[j] * dp[j];
                    for (int j = first; j <= i; j++) {
                        if (p[j] == 0) continue;
                        int ko = row(b, j) * kvWidth() + kh * headDim;
                        float ds = (float) (p[j] * (dp[j] - pDotDp)) * scale;
                        Vectors.axpy(p[j], dOut, qo, dv, ko, headDim);
                        Vectors.axpy(ds, k, ko, dq, qo, headDim);
                        Vectors.axpy(ds, q, qo, dk, ko, headDim);
                    }
                }
            }
        });
        return new Gradients(dq, dk, dv);
    }

    /** dq [rows, heads * headDim], dk, dv [rows, kvHeads * headDim]. */
    public record Gradients(float[] dq, float[] dk, float[] dv) {}

    /**
     * The softmax row of query i of head h in sequence b into p[first .. i] (0 where invisible), from
     * the keys of its sequence and head transposed; returns first, or -1 when the query is padding.
     */
    private int probabilities(float[] q, float[] keys, int b, int h, int i, float[] p) {
        if (mask[row(b, i)] == 0) return -1;
        int first = window > 0 ? Math.max(0, i - window + 1) : 0;
        products(q, row(b, i) * heads * headDim + h * headDim, keys, first, i + 1, p);
        float max = Float.NEGATIVE_INFINITY;
        for (int j = first; j <= i; j++) if (mask[row(b, j)] != 0) max = Math.max(max, p[j] *= scale);
        double sum = 0;
        for (int j = first; j <= i; j++) {
            p[j] = mask[row(b, j)] == 0 ? 0 : (float) Math.exp(p[j] - max);
            sum += p[j];
        }
        float inv = (float) (1 / sum);
        for (int j = first; j <= i; j++) p[j] *= inv;
        return first;
    }

    /** Head kh of sequence b of x [rows, kvHeads * headDim], dimension-major: [headDim, tokens]. */
    private float[] transposed(float[] x, int b, int kh) {
        float[] t = new float[headDim * tokens];
        for (int j = 0; j < tokens; j++)
            for (int d = 0; d < headDim; d++) t[d * tokens + j] = x[row(b, j) * kvWidth() + kh * headDim + d];
        return t;
    }

    /**
     * out[j] = sum over d of x[xo + d] * t[d * tokens + j] for j in [from, to): a vector of positions at
     * a time, so no horizontal sums (whose order, hence rounding, differs between interpreted and
     * compiled code and would make runs irreproducible); the tail uses the same fused multiply-adds.
     */
    private void products(float[] x, int xo, float[] t, int from, int to, float[] out) {
        int j = from;
        for (; j + 4 * L <= to; j += 4 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < headDim; d++) {
                FloatVector xd = FloatVector.broadcast(F, x[xo + d]);
                int at = d * tokens + j;
                a0 = FloatVector.fromArray(F, t, at).fma(xd, a0);
                a1 = FloatVector.fromArray(F, t, at + L).fma(xd, a1);
                a2 = FloatVector.fromArray(F, t, at + 2 * L).fma(xd, a2);
                a3 = FloatVector.fromArray(F, t, at + 3 * L).fma(xd, a3);
            }
            a0.intoArray(out, j);
            a1.intoArray(out, j + L);
            a2.intoArray(out, j + 2 * L);
            a3.intoArray(out, j + 3 * L);
        }
        for (; j + L <= to; j += L) {
            FloatVector a = FloatVector.zero(F);
            for (int d = 0; d < headDim; d++) a = FloatVector.fromArray(F, t, d * tokens + j).fma(FloatVector.broadcast(F, x[xo + d]), a);
            a.intoArray(out, j);
        }
        for (; j < to; j++) {
            float sum = 0;
            for (int d = 0; d < headDim; d++) sum = Math.fma(t[d * tokens + j], x[xo + d], sum);
            out[j] = sum;
        }
    }

    private int row(int b, int t) { return b * tokens + t; }

    private int group() { return heads / kvHeads; }

    private int kvWidth() { return kvHeads * headDim; }
}
