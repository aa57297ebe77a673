package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.constant.ConstantDescs;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link MatMul}'s path for a few tokens (a decode step, a handful of beams), which is bound by reading
 * the weight: four rows at a time are read front to back straight from storage and widened to fp32 in
 * registers, and nothing converted is written back. The four rows come from the four quarters of the
 * task's block, so the memory sees four long sequential streams however short a row is (with four
 * adjacent rows, or with the rows converted into a buffer first, decode steps read their weights at
 * 50-70 % of the speed; two rows of two vectors each read one [2048, 8192] product faster in a kernel
 * benchmark but decoded whole bf16 models 20 % slower). Up to five tokens at a time run against each row quad,
 * so that a step of GEMEL's five beams widens each weight once: with passes of four, the fifth token's pass
 * widened the quad again, and five-token products of F16 and BF16 weights took 15-40 % longer in a kernel
 * benchmark (of F32 weights, which need no widening, 3-5 % less). Three or four tokens left over run as a pass
 * of five whose missing tokens repeat the last one and are dropped (four tokens: 16-20 % slower than the pass
 * of four this replaced); one or two run one by one, the quad read again for them coming from L2.
 * F16 is widened by {@link StoredFloats#halfAsNormal}, integer operations that read each half as a normal one: exact
 * but for halves with a zero exponent (zeros, subnormals), whose excess {@link #multiplyRows} takes back from the
 * block's outputs at the end, in one pass over the block's list of them ({@link ZeroExponentHalves}). So
 * {@link MatMul} sends here only F16 weights without infinities and NaNs and with few such halves, and inputs below
 * 2^16 in magnitude (past that, the excess taken back would cancel digits of the sum that count). Widening F16 to
 * 2^-112 times its value instead, with the input scaled up to match, made subnormal halves fp32 subnormals, which cost
 * Intel cores a microcode assist per multiply-add with one: with that, F16 products of one and five tokens took
 * 1.2-1.8 times as long, and decode steps of fp16 OPT models 1.1-1.3 times (BENCHMARKS.md, "F16 halves read as
 * normal ones").
 * (Converting F16 into an L1 buffer with the processor's conversion instruction and reading that ran at half the speed;
 * checking each row for infinities in the kernels themselves pushed them past the JIT's inlining limits,
 * several times slower.)
 * The class is a template: {@link StreamingKernels} defines one hidden copy of it per dtype, whose {@link #DTYPE}
 * is a constant, so that each copy is compiled for its dtype alone. It is never used as itself.
 */
final class StreamingProduct {
    private static final DType DTYPE = copysDtype();
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int ROWS = 4;   // rows per pass: four read streams
    private static final int TOKENS = 5; // tokens per pass: 5 x 4 accumulators, 4 weights and an input fit AVX-512's 32 registers
    /**
     * {@link #dot1x4}'s loop step for F16 weights, L, in a field the JIT does not take for a constant: not final (and never
     * written), so that the JIT neither unrolls that loop nor takes it for a counted one. F32 and BF16 use the constant L.
     * On the AMD EPYC of the first benchmarks, the JIT's eightfold unrolling of the constant step issued each row's loads in
     * runs of eight, and the F32 product alone of 2048-wide rows ran at 0.66-0.82 of the C peer's speed with it, 0.84-0.92
     * without. On the Intel Xeon of the later ones the loop with the field's step keeps its bounds checks, a safepoint poll
     * and spills in every iteration (about 40 instructions for four loads and four multiply-adds), and the constant step was
     * faster: in products alone, in turns in one JVM, both orders, F32 0.81-0.90 of the time (with 256-bit vectors
     * 0.87-0.95) and BF16 0.98-1.02, and single-token decode steps of OPT-1.3b and Llama-1B fp32 0.85-0.88, Llama-1B bf16
     * 0.95-0.98; F16 products took 1.00-1.08 of the time, so F16 keeps the field. The five-token pass keeps its constant
     * step: not unrolled, five-row fp16 steps took 3-7 % longer.
     */
    private static int step = L;

    private StreamingProduct() {}

    /** {@link #dot1x4}'s step: L, a constant to the JIT but for F16 (see {@link #step}). */
    private static int singleStep() { return DTYPE == DType.F16 ? step : L; }

    /** The dtype {@link StreamingKernels} defined this copy for. */
    private static DType copysDtype() {
        try {
            return MethodHandles.classData(MethodHandles.lookup(), ConstantDescs.DEFAULT_NAME, DType.class);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("StreamingProduct is used only through its copies in StreamingKernels", e);
        }
    }

    /** out[t, o0 .. o1) = bias + x[t, :] . w[o, :] for every token; w of this copy's dtype, {@code halves} its facts if F16. */
    static void multiplyRows(float[] x, int tokens, int in, TensorView w, ZeroExponentHalves halves, float[] bias, float[] out, int outDim,
                             int o0, int o1) {
        if (w.dtype() != DTYPE) throw new IllegalArgumentException(w + " handed to the " + DTYPE + " product");
        float[] lanes = new float[TOKENS * ROWS * L]; // a kernel's accumulators, stored for their sums
        // stream k walks rows o0 + k * span + j, j = 0, 1, ...: four long runs through the block, however short a row;
        // the rows left over (fewer than four) come last, each read by all four streams and summed once
        int span = (o1 - o0) / ROWS;
        if (tokens == 1) {
            oneToken(x, in, w, bias, out, o0, span, lanes);
        } else {
            for (int j = 0; j < span; j++) rows(x, tokens, in, w, o0 + j, span, ROWS, lanes, bias, out, outDim);
        }
        for (int r = o0 + ROWS * span; r < o1; r++) rows(x, tokens, in, w, r, 0, 1, lanes, bias, out, outDim);
        if (DTYPE == DType.F16) halves.subtractExcess(x, tokens, in, F.loopBound(in), out, outDim, o0, o1);
    }

    /**
     * The four streams of a decode step's one token, in a loop of its own. Run through {@link #rows} (the loop over passes
     * of several tokens), the same kernel read a [65,536, 2,048] F32 or BF16 weight 3-8 % slower against reads near
     * 30 GB/s and 10-20 % slower against reads near 50 GB/s (the two in turns in one JVM); what the JIT does differently
     * there was not pinned down.
     */
    private static void oneToken(float[] x, int in, TensorView w, float[] bias, float[] out, int o0, int span, float[] lanes) {
        MemorySegment data = w.data();
        long s = (long) span * in;
        for (int j = 0; j < span; j++) {
            long o = (long) (o0 + j) * in;
            dot1x4(x, 0, in, data, o, s, lanes);
            store(x, 0, 1, in, w, o, s, o0 + j, span, ROWS, lanes, bias, out, 0); // token 0 only: out's row stride is not used
        }
    }

    /** out[t, first + k * apart] for k < count and every token: the four streams read rows first + k * apart. */
    private static void rows(float[] x, int tokens, int in, TensorView w, int first, int apart, int count, float[] lanes,
                             float[] bias, float[] out, int outDim) {
        MemorySegment data = w.data();
        long o = (long) first * in, s = (long) apart * in;
        int t = 0;
        for (int pass; (pass = Math.min(TOKENS, tokens - t)) >= 3; t += pass) {
            dot5x4(x, t * in, in, pass, data, o, s, lanes);
            store(x, t, pass, in, w, o, s, first, apart, count, lanes, bias, out, outDim);
        }
        for (; t < tokens; t++) {
            dot1x4(x, t * in, in, data, o, s, lanes);
            store(x, t, 1, in, w, o, s, first, apart, count, lanes, bias, out, outDim);
        }
    }

    /**
     * out[t0 + u, first + k * apart] for u < tokens, k < count: the lanes of accumulator u * ROWS + k summed, then the
     * columns past the kernels' last whole vector added one by one, then the bias.
     */
    private static void store(float[] x, int t0, int tokens, int in, TensorView w, long o, long s, int first, int apart, int count,
                              float[] lanes, float[] bias, float[] out, int outDim) {
        int vectorEnd = F.loopBound(in);
        for (int u = 0; u < tokens; u++) {
            int xo = (t0 + u) * in;
            for (int k = 0; k < count; k++) {
                float sum = Lanes.sum(FloatVector.fromArray(F, lanes, (u * ROWS + k) * L));
                long row = o + k * s;
                for (int i = vectorEnd; i < in; i++) sum += x[xo + i] * w.get(row + i);
                int r = first + k * apart;
                out[(t0 + u) * outDim + r] = sum + (bias == null ? 0 : bias[r]);
            }
        }
    }

    /**
     * lanes[k * L ..] = the lane products of x[xo ..] and the stored row at o + k * s, k < 4, summed over the whole vectors
     * of n columns (their lanes are summed by {@link #store}).
     */
    private static void dot1x4(float[] x, int xo, int n, MemorySegment data, long o, long s, float[] lanes) {
        int by = singleStep();
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0, end = F.loopBound(n); i < end; i += by) { // by == L: see step
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            long p = o + i;
            a0 = v.fma(load(data, p), a0);
            a1 = v.fma(load(data, p + s), a1);
            a2 = v.fma(load(data, p + 2 * s), a2);
            a3 = v.fma(load(data, p + 3 * s), a3);
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
    }

    /**
     * {@link #dot1x4} for five tokens of {@code in} inputs, x of token t at xo + t * in, into lanes[(t * ROWS + k) * L ..].
     * With {@code count} below five, tokens from {@code count} on repeat the last one; their lanes are not read.
     */
    private static void dot5x4(float[] x, int xo, int in, int count, MemorySegment data, long o, long s, float[] lanes) {
        int x0 = xo, x1 = xo + Math.min(1, count - 1) * in, x2 = xo + Math.min(2, count - 1) * in;
        int x3 = xo + Math.min(3, count - 1) * in, x4 = xo + (count - 1) * in;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        FloatVector a40 = a00, a41 = a00, a42 = a00, a43 = a00;
        for (int i = 0, end = F.loopBound(in); i < end; i += L) {
            long p = o + i;
            FloatVector w0 = load(data, p), w1 = load(data, p + s), w2 = load(data, p + 2 * s);
            FloatVector w3 = load(data, p + 3 * s), v = FloatVector.fromArray(F, x, x0 + i);
            a00 = v.fma(w0, a00);
            a01 = v.fma(w1, a01);
            a02 = v.fma(w2, a02);
            a03 = v.fma(w3, a03);
            v = FloatVector.fromArray(F, x, x1 + i);
            a10 = v.fma(w0, a10);
            a11 = v.fma(w1, a11);
            a12 = v.fma(w2, a12);
            a13 = v.fma(w3, a13);
            v = FloatVector.fromArray(F, x, x2 + i);
            a20 = v.fma(w0, a20);
            a21 = v.fma(w1, a21);
            a22 = v.fma(w2, a22);
            a23 = v.fma(w3, a23);
            v = FloatVector.fromArray(F, x, x3 + i);
            a30 = v.fma(w0, a30);
            a31 = v.fma(w1, a31);
            a32 = v.fma(w2, a32);
            a33 = v.fma(w3, a33);
            v = FloatVector.fromArray(F, x, x4 + i);
            a40 = v.fma(w0, a40);
            a41 = v.fma(w1, a41);
            a42 = v.fma(w2, a42);
            a43 = v.fma(w3, a43);
        }
        a00.intoArray(lanes, 0);
        a01.intoArray(lanes, L);
        a02.intoArray(lanes, 2 * L);
        a03.intoArray(lanes, 3 * L);
        a10.intoArray(lanes, 4 * L);
        a11.intoArray(lanes, 5 * L);
        a12.intoArray(lanes, 6 * L);
        a13.intoArray(lanes, 7 * L);
        a20.intoArray(lanes, 8 * L);
        a21.intoArray(lanes, 9 * L);
        a22.intoArray(lanes, 10 * L);
        a23.intoArray(lanes, 11 * L);
        a30.intoArray(lanes, 12 * L);
        a31.intoArray(lanes, 13 * L);
        a32.intoArray(lanes, 14 * L);
        a33.intoArray(lanes, 15 * L);
        a40.intoArray(lanes, 16 * L);
        a41.intoArray(lanes, 17 * L);
        a42.intoArray(lanes, 18 * L);
        a43.intoArray(lanes, 19 * L);
    }

    /** L stored values from element {@code index} on, widened to fp32 (F16: read as normal halves, see the class comment). */
    private static FloatVector load(MemorySegment data, long index) {
        return switch (DTYPE) {
            case F32 -> FloatVector.fromMemorySegment(F, data, index * 4, LE);
            case BF16 -> StoredFloats.bfloat16(data, index * 2);
            case F16 -> StoredFloats.halfAsNormal(data, index * 2);
        };
    }
}
