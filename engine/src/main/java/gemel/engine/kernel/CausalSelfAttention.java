package gemel.engine.kernel;

import java.util.Arrays;
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
    private static final int BLOCK = 4; // queries whose dk, dv contributions are added together

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
                    int first = probabilities(q, keys, b, h, i, p, 0);
                    if (first < 0) continue;
                    addWeightedRows(p, 0, first, i, v, b, kh, out, row(b, i) * heads * headDim + h * headDim);
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
            // rows of p and ds for a block of BLOCK consecutive queries, so that each dk, dv row loaded serves all of them
            float[] p = new float[BLOCK * tokens], ds = new float[BLOCK * tokens];
            float[] keys = transposed(k, b, kh), values = transposed(v, b, kh);
            int[] qo = new int[BLOCK];
            for (int h = kh * group(); h < (kh + 1) * group(); h++) {
                for (int i0 = 0; i0 < tokens; i0 += BLOCK) {
                    int end = Math.min(tokens, i0 + BLOCK), lo = window > 0 ? Math.max(0, i0 - window + 1) : 0;
                    for (int r = 0; r < BLOCK; r++) {
                        int i = Math.min(i0 + r, end - 1); // past the end: a row of zeros at the last query's place
                        qo[r] = row(b, i) * heads * headDim + h * headDim;
                        int at = r * tokens;
                        Arrays.fill(p, at + lo, at + end, 0f);
                        Arrays.fill(ds, at + lo, at + end, 0f);
                        int first = i0 + r < end ? probabilities(q, keys, b, h, i, p, at) : -1;
                        if (first < 0) continue;
                        products(dOut, qo[r], values, first, i + 1, ds, at);
                        double pDotDp = 0;
                        for (int j = first; j <= i; j++) pDotDp += p[at + j] * ds[at + j];
                        for (int j = first; j <= i; j++) ds[at + j] = p[at + j] == 0 ? 0 : (float) (p[at + j] * (ds[at + j] - pDotDp)) * scale;
                        addWeightedRows(ds, at, first, i, k, b, kh, dq, qo[r]);
                    }
                    addOuterProducts(p, lo, end, dOut, qo, dv, b, kh);
                    addOuterProducts(ds, lo, end, q, qo, dk, b, kh);
                }
            }
        });
        return new Gradients(dq, dk, dv);
    }

    /**
     * For each key position j in [lo, hi): (head kh of row j of out) += sum over the block's queries r, in
     * order, of w[r * tokens + j] * x[xo[r] ..]: dv from p and dOut, dk from ds and q. The row of out is
     * loaded and stored once for all BLOCK queries; a zero weight adds zero.
     */
    private void addOuterProducts(float[] w, int lo, int hi, float[] x, int[] xo, float[] out, int b, int kh) {
        int d0 = 0;
        for (; d0 + L <= headDim; d0 += L) {
            FloatVector x0 = FloatVector.fromArray(F, x, xo[0] + d0), x1 = FloatVector.fromArray(F, x, xo[1] + d0);
            FloatVector x2 = FloatVector.fromArray(F, x, xo[2] + d0), x3 = FloatVector.fromArray(F, x, xo[3] + d0);
            for (int j = lo; j < hi; j++) {
                int o = row(b, j) * kvWidth() + kh * headDim + d0;
                FloatVector acc = FloatVector.fromArray(F, out, o);
                acc = x0.fma(FloatVector.broadcast(F, w[j]), acc);
                acc = x1.fma(FloatVector.broadcast(F, w[tokens + j]), acc);
                acc = x2.fma(FloatVector.broadcast(F, w[2 * tokens + j]), acc);
                acc = x3.fma(FloatVector.broadcast(F, w[3 * tokens + j]), acc);
                acc.intoArray(out, o);
            }
        }
        for (int j = lo; j < hi; j++) {
            for (int r = 0; r < BLOCK; r++) Vectors.axpy(w[r * tokens + j], x, xo[r] + d0, out, row(b, j) * kvWidth() + kh * headDim + d0, headDim - d0);
        }
    }

    /**
     * out[o .. o + headDim) += w[at + j] * (head kh of row j of x) for j in [from, to] with a weight, in order
     * of j, as repeated {@link Vectors#axpy} calls would add them, but in registers: the sum is a chain,
     * and through memory each step waited for the previous one's store.
     */
    private void addWeightedRows(float[] w, int at, int from, int to, float[] x, int b, int kh, float[] out, int o) {
        int d0 = 0;
        for (; d0 + 4 * L <= headDim; d0 += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(F, out, o + d0), a1 = FloatVector.fromArray(F, out, o + d0 + L);
            FloatVector a2 = FloatVector.fromArray(F, out, o + d0 + 2 * L), a3 = FloatVector.fromArray(F, out, o + d0 + 3 * L);
            for (int j = from; j <= to; j++) {
                if (w[at + j] == 0) continue;
                FloatVector wj = FloatVector.broadcast(F, w[at + j]);
                int xo = row(b, j) * kvWidth() + kh * headDim + d0;
                a0 = FloatVector.fromArray(F, x, xo).fma(wj, a0);
                a1 = FloatVector.fromArray(F, x, xo + L).fma(wj, a1);
                a2 = FloatVector.fromArray(F, x, xo + 2 * L).fma(wj, a2);
                a3 = FloatVector.fromArray(F, x, xo + 3 * L).fma(wj, a3);
            }
            a0.intoArray(out, o + d0);
            a1.intoArray(out, o + d0 + L);
            a2.intoArray(out, o + d0 + 2 * L);
            a3.intoArray(out, o + d0 + 3 * L);
        }
        for (int j = from; j <= to; j++) {
            if (w[at + j] != 0) Vectors.axpy(w[at + j], x, row(b, j) * kvWidth() + kh * headDim + d0, out, o + d0, headDim - d0);
        }
    }

    /** dq [rows, heads * headDim], dk, dv [rows, kvHeads * headDim]. */
    public record Gradients(float[] dq, float[] dk, float[] dv) {}

    /**
     * The softmax row of query i of head h in sequence b into p[first .. i] (0 where invisible), from
     * the keys of its sequence and head transposed; returns first, or -1 when the query is padding.
     */
    private int probabilities(float[] q, float[] keys, int b, int h, int i, float[] p, int at) {
        if (mask[row(b, i)] == 0) return -1;
        int first = window > 0 ? Math.max(0, i - window + 1) : 0;
        products(q, row(b, i) * heads * headDim + h * headDim, keys, first, i + 1, p, at);
        for (int j = first; j <= i; j++) p[at + j] = mask[row(b, j)] == 0 ? Float.NEGATIVE_INFINITY : p[at + j] * scale;
        Softmax.inPlace(p, at + first, i + 1 - first);
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
     * out[at + j] = sum over d of x[xo + d] * t[d * tokens + j] for j in [from, to): a vector of positions at
     * a time, so no horizontal sums (whose order, hence rounding, differs between interpreted and
     * compiled code and would make runs irreproducible); the tail uses the same fused multiply-adds.
     */
    private void products(float[] x, int xo, float[] t, int from, int to, float[] out, int at) {
        int j = from;
        for (; j + 4 * L <= to; j += 4 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < headDim; d++) {
                FloatVector xd = FloatVector.broadcast(F, x[xo + d]);
                int td = d * tokens + j;
                a0 = FloatVector.fromArray(F, t, td).fma(xd, a0);
                a1 = FloatVector.fromArray(F, t, td + L).fma(xd, a1);
                a2 = FloatVector.fromArray(F, t, td + 2 * L).fma(xd, a2);
                a3 = FloatVector.fromArray(F, t, td + 3 * L).fma(xd, a3);
            }
            a0.intoArray(out, at + j);
            a1.intoArray(out, at + j + L);
            a2.intoArray(out, at + j + 2 * L);
            a3.intoArray(out, at + j + 3 * L);
        }
        for (; j + L <= to; j += L) {
            FloatVector a = FloatVector.zero(F);
            for (int d = 0; d < headDim; d++) a = FloatVector.fromArray(F, t, d * tokens + j).fma(FloatVector.broadcast(F, x[xo + d]), a);
            a.intoArray(out, at + j);
        }
        for (; j < to; j++) {
            float sum = 0;
            for (int d = 0; d < headDim; d++) sum = Math.fma(t[d * tokens + j], x[xo + d], sum);
            out[at + j] = sum;
        }
    }

    private int row(int b, int t) { return b * tokens + t; }

    private int group() { return heads / kvHeads; }

    private int kvWidth() { return kvHeads * headDim; }
}
