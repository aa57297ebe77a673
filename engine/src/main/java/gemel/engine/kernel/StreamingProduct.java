package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link MatMul}'s path for a few tokens (a decode step, a handful of beams), which is bound by reading
 * the weight: four rows at a time are read front to back straight from storage and widened to fp32 in
 * registers, and nothing converted is written back. The four rows come from the four quarters of the
 * task's block, so the memory sees four long sequential streams however short a row is (with four
 * adjacent rows, or with the rows converted into a buffer first, decode steps read their weights at
 * 50-70 % of the speed; two rows of two vectors each read one [2048, 8192] product faster in a kernel
 * benchmark but decoded whole bf16 models 20 % slower). Four tokens at a time run against each row quad, then
 * the rest one by one; the quad read again for those comes from L2. F16 quads are widened
 * {@value #WIDEN} columns at a time into an array in L1, which the kernels then read as F32 (their
 * sums carry over from piece to piece): the Vector API has no half-precision conversion, and
 * converting by bit operations in registers ran slower than the plain loop of {@link StoredFloats},
 * which the JIT compiles to the processor's conversion instruction. The kernels read that array
 * with array loads: through a segment, on or off the heap, the same product ran at half the speed.
 */
final class StreamingProduct {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int ROWS = 4;   // rows per pass: four read streams
    private static final int TOKENS = 4; // tokens per pass: 4 x 4 accumulators, 4 weights and an input fit the registers

    private static final int WIDEN = 256; // f16 elements widened per row and piece: four rows of them (4 KiB) stay in L1
    private static final Scratch WIDENED = new Scratch();

    private StreamingProduct() {}

    /** out[t, o0 .. o1) = bias + x[t, :] . w[o, :] for every token. */
    static void multiplyRows(float[] x, int tokens, int in, TensorView w, float[] bias, float[] out, int outDim, int o0, int o1) {
        // f16: the row quad is widened a piece at a time into an L1 array; the kernels read row k of it at k * WIDEN
        boolean widen = w.dtype() == DType.F16;
        int piece = widen ? WIDEN : in;
        float[] widened = widen ? WIDENED.floats(ROWS * WIDEN) : null;
        // per token and row: a vector of partial sums (reduced once, at the end of the row) and the scalar tails
        float[] lanes = new float[tokens * ROWS * L];
        float[] sums = new float[tokens * ROWS];
        int[] rows = new int[ROWS];
        // stream k walks rows o0 + k * span + j, j = 0, 1, ...: four long runs through the block, however short a row
        int span = (o1 - o0 + ROWS - 1) / ROWS;
        for (int j = 0; j < span; j++) {
            for (int k = 0; k < ROWS; k++) {
                int r = o0 + k * span + j;
                rows[k] = r < o1 ? r : -1;
            }
            Arrays.fill(lanes, 0f);
            Arrays.fill(sums, 0f);
            for (int c = 0; c < in; c += piece) {
                int n = Math.min(piece, in - c);
                long r0 = start(rows, 0, in) + c, r1 = start(rows, 1, in) + c, r2 = start(rows, 2, in) + c, r3 = start(rows, 3, in) + c;
                if (widen) {
                    StoredFloats.copy(w, r0, widened, 0, n);
                    StoredFloats.copy(w, r1, widened, WIDEN, n);
                    StoredFloats.copy(w, r2, widened, 2 * WIDEN, n);
                    StoredFloats.copy(w, r3, widened, 3 * WIDEN, n);
                    r0 = 0;
                    r1 = WIDEN;
                    r2 = 2 * WIDEN;
                    r3 = 3 * WIDEN;
                }
                int t = 0;
                for (; t + TOKENS <= tokens; t += TOKENS) dot4x4(x, t * in + c, in, n, w, widened, r0, r1, r2, r3, lanes, sums, t * ROWS);
                for (; t < tokens; t++) dot1x4(x, t * in + c, n, w, widened, r0, r1, r2, r3, lanes, sums, t * ROWS);
            }
            store(lanes, sums, tokens, rows, bias, out, outDim);
        }
    }

    /** Where the weights of stream k start: its row, or for a stream past the block's end the first stream's (its sums are dropped). */
    private static long start(int[] rows, int k, int in) { return (long) (rows[k] >= 0 ? rows[k] : rows[0]) * in; }

    /** out[t, rows[k]] = lanes and sums of t * ROWS + k, + bias[rows[k]], for every token and every real row. */
    private static void store(float[] lanes, float[] sums, int tokens, int[] rows, float[] bias, float[] out, int outDim) {
        for (int t = 0; t < tokens; t++) {
            for (int k = 0; k < ROWS; k++) {
                int r = rows[k];
                int at = t * ROWS + k;
                if (r >= 0) out[t * outDim + r] = Lanes.sum(FloatVector.fromArray(F, lanes, at * L)) + sums[at] + (bias == null ? 0 : bias[r]);
            }
        }
    }

    /**
     * Adds x[xo .. xo + n) . row k (at r0 .. r3 of w, or for F16 of its widened piece) into the partial sums of
     * at + k: the vector part into lanes[(at + k) * L ..], the scalar tail into sums[at + k]. Vectors are not reduced
     * here: an F16 row comes in many pieces, and reducing each piece's sixteen accumulators cost as much as its FMAs.
     */
    private static void dot1x4(float[] x, int xo, int n, TensorView w, float[] widened, long r0, long r1, long r2, long r3, float[] lanes, float[] sums, int at) {
        MemorySegment data = w.data();
        DType dtype = w.dtype();
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            a0 = v.fma(load(data, widened, dtype, r0 + i), a0);
            a1 = v.fma(load(data, widened, dtype, r1 + i), a1);
            a2 = v.fma(load(data, widened, dtype, r2 + i), a2);
            a3 = v.fma(load(data, widened, dtype, r3 + i), a3);
        }
        addLanes(lanes, at, a0);
        addLanes(lanes, at + 1, a1);
        addLanes(lanes, at + 2, a2);
        addLanes(lanes, at + 3, a3);
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (; i < n; i++) {
            float v = x[xo + i];
            s0 += v * get(w, widened, r0 + i);
            s1 += v * get(w, widened, r1 + i);
            s2 += v * get(w, widened, r2 + i);
            s3 += v * get(w, widened, r3 + i);
        }
        sums[at] += s0;
        sums[at + 1] += s1;
        sums[at + 2] += s2;
        sums[at + 3] += s3;
    }
    /** {@link #dot1x4} for four tokens, x of token t at xo + t * xStride, into the partial sums of at + t * ROWS + k. */
    private static void dot4x4(float[] x, int xo, int xStride, int n, TensorView w, float[] widened, long r0, long r1, long r2, long r3, float[] lanes, float[] sums, int at) {
        MemorySegment data = w.data();
        DType dtype = w.dtype();
        int x0 = xo, x1 = xo + xStride, x2 = xo + 2 * xStride, x3 = xo + 3 * xStride;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            FloatVector w0 = load(data, widened, dtype, r0 + i), w1 = load(data, widened, dtype, r1 + i), w2 = load(data, widened, dtype, r2 + i), w3 = load(data, widened, dtype, r3 + i);
            FloatVector v = FloatVector.fromArray(F, x, x0 + i);
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
        }
        addLanes(lanes, at, a00);
        addLanes(lanes, at + 1, a01);
        addLanes(lanes, at + 2, a02);
        addLanes(lanes, at + 3, a03);
        addLanes(lanes, at + 4, a10);
        addLanes(lanes, at + 5, a11);
        addLanes(lanes, at + 6, a12);
        addLanes(lanes, at + 7, a13);
        addLanes(lanes, at + 8, a20);
        addLanes(lanes, at + 9, a21);
        addLanes(lanes, at + 10, a22);
        addLanes(lanes, at + 11, a23);
        addLanes(lanes, at + 12, a30);
        addLanes(lanes, at + 13, a31);
        addLanes(lanes, at + 14, a32);
        addLanes(lanes, at + 15, a33);
        for (; i < n; i++) {
            float w0 = get(w, widened, r0 + i), w1 = get(w, widened, r1 + i), w2 = get(w, widened, r2 + i), w3 = get(w, widened, r3 + i);
            for (int t = 0; t < TOKENS; t++) {
                float v = x[xo + t * xStride + i];
                sums[at + t * ROWS] += v * w0;
                sums[at + t * ROWS + 1] += v * w1;
                sums[at + t * ROWS + 2] += v * w2;
                sums[at + t * ROWS + 3] += v * w3;
            }
        }
    }

    /** lanes[at * L ..] += a. */
    private static void addLanes(float[] lanes, int at, FloatVector a) {
        a.add(FloatVector.fromArray(F, lanes, at * L)).intoArray(lanes, at * L);
    }

    /** L stored values from element {@code index} on, widened to fp32 (F16 from the widened piece). */
    private static FloatVector load(MemorySegment data, float[] widened, DType dtype, long index) {
        return switch (dtype) {
            case F32 -> FloatVector.fromMemorySegment(F, data, index * 4, LE);
            case BF16 -> StoredFloats.bfloat16(data, index * 2);
            case F16 -> FloatVector.fromArray(F, widened, (int) index);
        };
    }

    /** The scalar twin of {@link #load}. */
    private static float get(TensorView w, float[] widened, long index) {
        return w.dtype() == DType.F16 ? widened[(int) index] : w.get(index);
    }
}
