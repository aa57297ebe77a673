package gemel.engine.kernel;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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
    // scoresFour keeps 16 accumulators, four key vectors and four broadcasts: in 16 registers (AVX2) they spill, and the
    // one-vector rest path ran OPT-125m's 1,536-token prompts in 0.85-0.95 of the time there (-XX:UseAVX=2, in turns)
    private static final boolean FOUR_KEY_VECTORS = VectorRegisters.COUNT >= 32;

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
            sweepScores(q, qOff, headDim, scale, s, n, scores, base);
            base += n;
        }
        if (!maskScores(scores, 0, visible, keyMask, maskOff)) {
            Arrays.fill(out, outOff, outOff + headDim, 0f);
            return;
        }
        Softmax.inPlace(scores, 0, visible);
        int d0 = 0;
        for (; d0 + 4 * L <= headDim; d0 += 4 * L) sumValues4(spans, visible, scores, d0, out, outOff);
        for (; d0 + L <= headDim; d0 += L) sumValues1(spans, visible, scores, 0, d0, out, outOff);
        for (; d0 < headDim; d0++) out[outOff + d0] = sumValuesScalar(spans, visible, scores, 0, d0);
    }

    /**
     * {@link #attend} for two query heads with their own spans of the same lengths (two heads of one row: a decode step
     * of a model whose every query head has its own key/value head), q at {@code qa} and {@code qb}, out at {@code oa}
     * and {@code ob}, {@code scores} scratch of at least {@code 2 * visible}. The two heads' keys, then values, are read
     * side by side, two streams per core instead of one: OPT-125m's decode attention over 512 positions took 13 % less
     * time so. The outputs are {@link #attend}'s.
     */
    public static void attendTwo(float[] q, int qa, int qb, int headDim, float scale, Span[] a, Span[] b, int visible,
                                 int[] keyMask, int maskOff, float[] scores, float[] out, int oa, int ob) {
        checkSpans(a, visible);
        checkSpans(b, visible);
        int base = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i].length != b[i].length) throw new IllegalArgumentException("attention: paired spans of " + a[i].length + " and " + b[i].length + " positions");
            int n = Math.min(a[i].length, visible - base);
            if (n <= 0) break;
            sweepScoresTwo(q, qa, qb, headDim, scale, a[i], b[i], n, scores, base, visible + base);
            base += n;
        }
        boolean seen = maskScores(scores, 0, visible, keyMask, maskOff);
        maskScores(scores, visible, visible, keyMask, maskOff);
        if (!seen) {
            Arrays.fill(out, oa, oa + headDim, 0f);
            Arrays.fill(out, ob, ob + headDim, 0f);
            return;
        }
        Softmax.inPlace(scores, 0, visible);
        Softmax.inPlace(scores, visible, visible);
        int d0 = 0;
        for (; d0 + 4 * L <= headDim; d0 += 4 * L) sumValuesTwo(a, b, visible, scores, d0, out, oa, ob);
        for (; d0 + L <= headDim; d0 += L) {
            sumValues1(a, visible, scores, 0, d0, out, oa);
            sumValues1(b, visible, scores, visible, d0, out, ob);
        }
        for (; d0 < headDim; d0++) {
            out[oa + d0] = sumValuesScalar(a, visible, scores, 0, d0);
            out[ob + d0] = sumValuesScalar(b, visible, scores, visible, d0);
        }
    }

    /** Queries per call of {@link #attendFour}. */
    public static final int QUERIES = 4;

    /**
     * {@link #attend} for four query heads at once, q at {@code qOff + i * qStride} (i < 4), which share
     * spans and key mask: query i sees the first {@code visible + (causal ? i : 0)} positions, as
     * consecutive positions of a causal prompt do. Each key and value vector loaded serves all four, so
     * that a prompt's attention runs at the speed of its multiply-adds instead of its loads. Scores and
     * sums accumulate in the same order as {@link #attend}'s, so the outputs are the same.
     * {@code scores} is scratch of at least {@code 4 * (visible + 3)}; out i goes to {@code outOff + i * outStride}.
     */
    public static void attendFour(float[] q, int qOff, int qStride, int headDim, float scale, Span[] spans, int visible, boolean causal,
                                  int[] keyMask, int maskOff, float[] scores, float[] out, int outOff, int outStride) {
        int last = visible + (causal ? QUERIES - 1 : 0), stride = last; // score row i at i * stride
        checkSpans(spans, last);
        int base = 0;
        for (Span s : spans) {
            int n = Math.min(s.length, last - base);
            if (n <= 0) break;
            int j = 0;
            for (; FOUR_KEY_VECTORS && j + 4 * L <= n; j += 4 * L) scoresFour(q, qOff, qStride, headDim, scale, s, j, scores, base + j, stride);
            scoresRestFour(q, qOff, qStride, headDim, scale, s, j, n, scores, base, stride);
            base += n;
        }
        boolean[] sees = new boolean[QUERIES];
        for (int i = 0; i < QUERIES; i++) {
            int seen = visible + (causal ? i : 0), row = i * stride;
            sees[i] = maskScores(scores, row, seen, keyMask, maskOff);
            if (sees[i]) Softmax.inPlace(scores, row, seen);
            // positions past this query's view (or all, when it sees none) weigh nothing in the shared sums
            Arrays.fill(scores, row + (sees[i] ? seen : 0), row + last, 0f);
        }
        int d0 = 0;
        for (; d0 + 4 * L <= headDim; d0 += 4 * L) sumValuesFour(spans, last, scores, stride, d0, out, outOff, outStride);
        for (int i = 0; i < QUERIES; i++) {
            int o = outOff + i * outStride;
            for (int d = d0; d + L <= headDim; d += L) sumValues1(spans, last, scores, i * stride, d, out, o);
            for (int d = d0 + (headDim - d0) / L * L; d < headDim; d++) out[o + d] = sumValuesScalar(spans, last, scores, i * stride, d);
            if (!sees[i]) Arrays.fill(out, o, o + headDim, 0f);
        }
    }

    /** Scores of four queries against positions [j, j + 4L) of a span: each key vector loaded feeds four multiply-adds. */
    private static void scoresFour(float[] q, int qOff, int qStride, int headDim, float scale, Span s, int j, float[] scores, int at, int stride) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        float[] keys = s.keys;
        int q0 = qOff, q1 = qOff + qStride, q2 = qOff + 2 * qStride, q3 = qOff + 3 * qStride;
        for (int d = 0, k = s.keyOffset + j; d < headDim; d++, k += s.keyStride) {
            FloatVector k0 = FloatVector.fromArray(F, keys, k), k1 = FloatVector.fromArray(F, keys, k + L);
            FloatVector k2 = FloatVector.fromArray(F, keys, k + 2 * L), k3 = FloatVector.fromArray(F, keys, k + 3 * L);
            FloatVector b = FloatVector.broadcast(F, q[q0 + d]);
            a00 = k0.fma(b, a00);
            a01 = k1.fma(b, a01);
            a02 = k2.fma(b, a02);
            a03 = k3.fma(b, a03);
            b = FloatVector.broadcast(F, q[q1 + d]);
            a10 = k0.fma(b, a10);
            a11 = k1.fma(b, a11);
            a12 = k2.fma(b, a12);
            a13 = k3.fma(b, a13);
            b = FloatVector.broadcast(F, q[q2 + d]);
            a20 = k0.fma(b, a20);
            a21 = k1.fma(b, a21);
            a22 = k2.fma(b, a22);
            a23 = k3.fma(b, a23);
            b = FloatVector.broadcast(F, q[q3 + d]);
            a30 = k0.fma(b, a30);
            a31 = k1.fma(b, a31);
            a32 = k2.fma(b, a32);
            a33 = k3.fma(b, a33);
        }
        int r0 = at, r1 = at + stride, r2 = at + 2 * stride, r3 = at + 3 * stride;
        a00.mul(scale).intoArray(scores, r0);
        a01.mul(scale).intoArray(scores, r0 + L);
        a02.mul(scale).intoArray(scores, r0 + 2 * L);
        a03.mul(scale).intoArray(scores, r0 + 3 * L);
        a10.mul(scale).intoArray(scores, r1);
        a11.mul(scale).intoArray(scores, r1 + L);
        a12.mul(scale).intoArray(scores, r1 + 2 * L);
        a13.mul(scale).intoArray(scores, r1 + 3 * L);
        a20.mul(scale).intoArray(scores, r2);
        a21.mul(scale).intoArray(scores, r2 + L);
        a22.mul(scale).intoArray(scores, r2 + 2 * L);
        a23.mul(scale).intoArray(scores, r2 + 3 * L);
        a30.mul(scale).intoArray(scores, r3);
        a31.mul(scale).intoArray(scores, r3 + L);
        a32.mul(scale).intoArray(scores, r3 + 2 * L);
        a33.mul(scale).intoArray(scores, r3 + 3 * L);
    }

    /** Dimensions [d0, d0 + 4L) of four queries' weighted sums (weight rows at i * stride): each value vector loaded feeds four. */
    private static void sumValuesFour(Span[] spans, int visible, float[] weights, int stride, int d0, float[] out, int outOff, int outStride) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int base = 0;
        for (Span s : spans) {
            int n = Math.min(s.length, visible - base);
            float[] values = s.values;
            int step = s.valueStride, v = s.valueOffset + d0;
            for (int j = 0; j < n; j++, v += step) {
                FloatVector v0 = FloatVector.fromArray(F, values, v), v1 = FloatVector.fromArray(F, values, v + L);
                FloatVector v2 = FloatVector.fromArray(F, values, v + 2 * L), v3 = FloatVector.fromArray(F, values, v + 3 * L);
                FloatVector w = FloatVector.broadcast(F, weights[base + j]);
                a00 = v0.fma(w, a00);
                a01 = v1.fma(w, a01);
                a02 = v2.fma(w, a02);
                a03 = v3.fma(w, a03);
                w = FloatVector.broadcast(F, weights[stride + base + j]);
                a10 = v0.fma(w, a10);
                a11 = v1.fma(w, a11);
                a12 = v2.fma(w, a12);
                a13 = v3.fma(w, a13);
                w = FloatVector.broadcast(F, weights[2 * stride + base + j]);
                a20 = v0.fma(w, a20);
                a21 = v1.fma(w, a21);
                a22 = v2.fma(w, a22);
                a23 = v3.fma(w, a23);
                w = FloatVector.broadcast(F, weights[3 * stride + base + j]);
                a30 = v0.fma(w, a30);
                a31 = v1.fma(w, a31);
                a32 = v2.fma(w, a32);
                a33 = v3.fma(w, a33);
            }
            base += Math.max(n, 0);
        }
        int o0 = outOff + d0, o1 = o0 + outStride, o2 = o0 + 2 * outStride, o3 = o0 + 3 * outStride;
        a00.intoArray(out, o0);
        a01.intoArray(out, o0 + L);
        a02.intoArray(out, o0 + 2 * L);
        a03.intoArray(out, o0 + 3 * L);
        a10.intoArray(out, o1);
        a11.intoArray(out, o1 + L);
        a12.intoArray(out, o1 + 2 * L);
        a13.intoArray(out, o1 + 3 * L);
        a20.intoArray(out, o2);
        a21.intoArray(out, o2 + L);
        a22.intoArray(out, o2 + 2 * L);
        a23.intoArray(out, o2 + 3 * L);
        a30.intoArray(out, o3);
        a31.intoArray(out, o3 + L);
        a32.intoArray(out, o3 + 2 * L);
        a33.intoArray(out, o3 + 3 * L);
    }

    /** The scalar twin of {@link #attend}. */
    public static void attendScalar(float[] q, int qOff, int headDim, float scale, Span[] spans,
                                    int visible, int[] keyMask, int maskOff, float[] scores, float[] out, int outOff) {
        checkSpans(spans, visible);
        int base = 0;
        for (Span s : spans) {
            for (int j = 0; j < s.length && base < visible; j++, base++) scores[base] = scale * keyDot(q, qOff, headDim, s, j);
        }
        if (!maskScores(scores, 0, visible, keyMask, maskOff)) {
            Arrays.fill(out, outOff, outOff + headDim, 0f);
            return;
        }
        Softmax.inPlaceScalar(scores, 0, visible);
        for (int d = 0; d < headDim; d++) out[outOff + d] = sumValuesScalar(spans, visible, scores, 0, d);
    }

    private static void checkSpans(Span[] spans, int visible) {
        int held = 0;
        for (Span s : spans) held += s.length;
        if (held < visible) throw new IllegalArgumentException("attention: " + visible + " positions visible but the spans hold " + held);
    }

    /**
     * Scores of the first n positions of a span for one query (a decode step), written from scores[at]:
     * each key row (one dimension of every position) is swept front to back, adding into the scores,
     * which stay in L1, so the keys are read in storage order. Going a block of positions at a time over
     * all the dimensions reads them as headDim interleaved streams instead, 10-40 % slower from memory.
     * Each score is the same chain of fused multiply-adds in dimension order as in {@link #scoresFour}.
     */
    private static void sweepScores(float[] q, int qOff, int headDim, float scale, Span s, int n, float[] scores, int at) {
        Arrays.fill(scores, at, at + n, 0f);
        float[] keys = s.keys;
        int whole = F.loopBound(n);
        VectorMask<Float> rest = F.indexInRange(whole, n);
        for (int d = 0, row = s.keyOffset; d < headDim; d++, row += s.keyStride) {
            FloatVector qd = FloatVector.broadcast(F, q[qOff + d]);
            int j = 0;
            for (; j < whole; j += L) FloatVector.fromArray(F, keys, row + j).fma(qd, FloatVector.fromArray(F, scores, at + j)).intoArray(scores, at + j);
            if (j < n) FloatVector.fromArray(F, keys, row + j, rest).fma(qd, FloatVector.fromArray(F, scores, at + j, rest)).intoArray(scores, at + j, rest);
        }
        int j = 0;
        for (; j < whole; j += L) FloatVector.fromArray(F, scores, at + j).mul(scale).intoArray(scores, at + j);
        if (j < n) FloatVector.fromArray(F, scores, at + j, rest).mul(scale).intoArray(scores, at + j, rest);
    }

    /** {@link #sweepScores} of two heads side by side: head a's scores from scores[at], head b's from scores[bt]. */
    private static void sweepScoresTwo(float[] q, int qa, int qb, int headDim, float scale, Span a, Span b, int n, float[] scores, int at, int bt) {
        Arrays.fill(scores, at, at + n, 0f);
        Arrays.fill(scores, bt, bt + n, 0f);
        float[] ka = a.keys, kb = b.keys;
        int whole = F.loopBound(n);
        VectorMask<Float> rest = F.indexInRange(whole, n);
        for (int d = 0, ra = a.keyOffset, rb = b.keyOffset; d < headDim; d++, ra += a.keyStride, rb += b.keyStride) {
            FloatVector x = FloatVector.broadcast(F, q[qa + d]), y = FloatVector.broadcast(F, q[qb + d]);
            int j = 0;
            for (; j < whole; j += L) {
                FloatVector.fromArray(F, ka, ra + j).fma(x, FloatVector.fromArray(F, scores, at + j)).intoArray(scores, at + j);
                FloatVector.fromArray(F, kb, rb + j).fma(y, FloatVector.fromArray(F, scores, bt + j)).intoArray(scores, bt + j);
            }
            if (j < n) {
                FloatVector.fromArray(F, ka, ra + j, rest).fma(x, FloatVector.fromArray(F, scores, at + j, rest)).intoArray(scores, at + j, rest);
                FloatVector.fromArray(F, kb, rb + j, rest).fma(y, FloatVector.fromArray(F, scores, bt + j, rest)).intoArray(scores, bt + j, rest);
            }
        }
        int j = 0;
        for (; j < whole; j += L) {
            FloatVector.fromArray(F, scores, at + j).mul(scale).intoArray(scores, at + j);
            FloatVector.fromArray(F, scores, bt + j).mul(scale).intoArray(scores, bt + j);
        }
        if (j < n) {
            FloatVector.fromArray(F, scores, at + j, rest).mul(scale).intoArray(scores, at + j, rest);
            FloatVector.fromArray(F, scores, bt + j, rest).mul(scale).intoArray(scores, bt + j, rest);
        }
    }

    /**
     * Scores of the four queries of {@link #attendFour} against positions [j, n) of a span (fewer than 4L, or all of
     * them with 16 vector registers), L at a time with the lanes past n masked off: each key vector feeds four chains.
     */
    private static void scoresRestFour(float[] q, int qOff, int qStride, int headDim, float scale, Span s, int j, int n,
                                       float[] scores, int at, int stride) {
        int q0 = qOff, q1 = qOff + qStride, q2 = qOff + 2 * qStride, q3 = qOff + 3 * qStride;
        for (; j < n; j += L) {
            VectorMask<Float> m = F.indexInRange(j, n);
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0, k = s.keyOffset + j; d < headDim; d++, k += s.keyStride) {
                FloatVector key = FloatVector.fromArray(F, s.keys, k, m);
                a0 = key.fma(FloatVector.broadcast(F, q[q0 + d]), a0);
                a1 = key.fma(FloatVector.broadcast(F, q[q1 + d]), a1);
                a2 = key.fma(FloatVector.broadcast(F, q[q2 + d]), a2);
                a3 = key.fma(FloatVector.broadcast(F, q[q3 + d]), a3);
            }
            a0.mul(scale).intoArray(scores, at + j, m);
            a1.mul(scale).intoArray(scores, at + stride + j, m);
            a2.mul(scale).intoArray(scores, at + 2 * stride + j, m);
            a3.mul(scale).intoArray(scores, at + 3 * stride + j, m);
        }
    }

    /** One score of the scalar twin, fused like a vector lane's, so that the twin scores as the kernels do. */
    private static float keyDot(float[] q, int qOff, int headDim, Span s, int j) {
        float sum = 0;
        for (int d = 0; d < headDim; d++) sum = Math.fma(q[qOff + d], s.keys[s.keyOffset + d * s.keyStride + j], sum);
        return sum;
    }

    /** Sets masked scores (from scores[at] on) to -infinity; false when no position is left. */
    private static boolean maskScores(float[] scores, int at, int visible, int[] keyMask, int maskOff) {
        if (keyMask == null) return visible > 0;
        boolean any = false;
        for (int j = 0; j < visible; j++) {
            if (keyMask[maskOff + j] == 0) scores[at + j] = Float.NEGATIVE_INFINITY;
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
            float[] values = s.values; // locals, so that the JIT hoists the bounds checks out of the loop
            int stride = s.valueStride, v = s.valueOffset + d0;
            for (int j = 0; j < n; j++, v += stride) {
                float weight = weights[base + j];
                if (weight == 0) continue;
                FloatVector w = FloatVector.broadcast(F, weight);
                a0 = FloatVector.fromArray(F, values, v).fma(w, a0);
                a1 = FloatVector.fromArray(F, values, v + L).fma(w, a1);
                a2 = FloatVector.fromArray(F, values, v + 2 * L).fma(w, a2);
                a3 = FloatVector.fromArray(F, values, v + 3 * L).fma(w, a3);
            }
            base += Math.max(n, 0);
        }
        a0.intoArray(out, outOff + d0);
        a1.intoArray(out, outOff + d0 + L);
        a2.intoArray(out, outOff + d0 + 2 * L);
        a3.intoArray(out, outOff + d0 + 3 * L);
    }

    /** {@link #sumValues4} of two heads side by side: head a's weights from weights[0], head b's from weights[visible]. */
    private static void sumValuesTwo(Span[] a, Span[] b, int visible, float[] weights, int d0, float[] out, int oa, int ob) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int base = 0;
        for (int i = 0; i < a.length; i++) {
            int n = Math.min(a[i].length, visible - base);
            float[] va = a[i].values, vb = b[i].values;
            int sa = a[i].valueStride, sb = b[i].valueStride, pa = a[i].valueOffset + d0, pb = b[i].valueOffset + d0;
            for (int j = 0; j < n; j++, pa += sa, pb += sb) {
                float wa = weights[base + j], wb = weights[visible + base + j];
                if (wa != 0) { // as sumValues4 skips them, so that the sums are the same
                    FloatVector w = FloatVector.broadcast(F, wa);
                    a0 = FloatVector.fromArray(F, va, pa).fma(w, a0);
                    a1 = FloatVector.fromArray(F, va, pa + L).fma(w, a1);
                    a2 = FloatVector.fromArray(F, va, pa + 2 * L).fma(w, a2);
                    a3 = FloatVector.fromArray(F, va, pa + 3 * L).fma(w, a3);
                }
                if (wb != 0) {
                    FloatVector w = FloatVector.broadcast(F, wb);
                    b0 = FloatVector.fromArray(F, vb, pb).fma(w, b0);
                    b1 = FloatVector.fromArray(F, vb, pb + L).fma(w, b1);
                    b2 = FloatVector.fromArray(F, vb, pb + 2 * L).fma(w, b2);
                    b3 = FloatVector.fromArray(F, vb, pb + 3 * L).fma(w, b3);
                }
            }
            base += Math.max(n, 0);
        }
        a0.intoArray(out, oa + d0);
        a1.intoArray(out, oa + d0 + L);
        a2.intoArray(out, oa + d0 + 2 * L);
        a3.intoArray(out, oa + d0 + 3 * L);
        b0.intoArray(out, ob + d0);
        b1.intoArray(out, ob + d0 + L);
        b2.intoArray(out, ob + d0 + 2 * L);
        b3.intoArray(out, ob + d0 + 3 * L);
    }

    private static void sumValues1(Span[] spans, int visible, float[] weights, int at, int d0, float[] out, int outOff) {
        FloatVector a = FloatVector.zero(F);
        int base = 0;
        for (Span s : spans) {
            int n = Math.min(s.length, visible - base);
            for (int j = 0; j < n; j++) {
                float w = weights[at + base + j];
                if (w != 0) a = FloatVector.fromArray(F, s.values, s.valueOffset + j * s.valueStride + d0).fma(FloatVector.broadcast(F, w), a);
            }
            base += Math.max(n, 0);
        }
        a.intoArray(out, outOff + d0);
    }

    private static float sumValuesScalar(Span[] spans, int visible, float[] weights, int at, int d) {
        float sum = 0;
        int base = 0;
        for (Span s : spans) {
            for (int j = 0; j < s.length && base < visible; j++, base++) sum += weights[at + base] * s.values[s.valueOffset + j * s.valueStride + d];
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
            float[] scores = new float[QUERIES * (tokens + QUERIES)];
            int t = t0, t1 = Math.min(tokens, t0 + chunk), width = heads * headDim;
            for (; t + QUERIES <= t1; t += QUERIES) {
                int qo = (t * heads + h) * headDim;
                attendFour(q, qo, width, headDim, scale, spans, causal ? t + 1 : tokens, causal, mask, 0, scores, out, qo, width);
            }
            for (; t < t1; t++) {
                int qo = (t * heads + h) * headDim;
                attend(q, qo, headDim, scale, spans, causal ? t + 1 : tokens, mask, 0, scores, out, qo);
            }
        });
    }
}
