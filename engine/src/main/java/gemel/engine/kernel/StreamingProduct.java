package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link MatMul}'s path for a few tokens (a decode step, a handful of beams), which is bound by reading
 * the weight: a few rows at a time are read front to back straight from storage and widened to fp32 in
 * registers; nothing converted is written back. The rows of a pass come from equal parts of the task's
 * block, so each core reads that many long sequential streams however short a row is. How many is a
 * trade measured on one core against a plain read of the same bytes: rows of up to
 * {@value #PAIR_WIDTH} inputs go two at a time, two vectors of each per step (90-100 % of the read;
 * four streams read at 75-85 %); wider rows go four at a time, one vector each, because then the input
 * no longer stays in L1 beside the streams, and loading it once per four rows instead of per two
 * matters more (two rows read 4096- and 8192-wide layers 10-20 % slower). Each row is addressed as
 * its own slice with int offsets: with long offsets into the whole tensor the JIT kept a bounds check in
 * the loop. Four tokens at a time run against each row group, then the rest one by one; the group read
 * again for those comes from L2. F16 groups are widened {@value #WIDEN} columns at a time into an
 * off-heap buffer in L1, which the kernels then read as F32 (their sums carry over from piece to
 * piece): the Vector API has no half-precision conversion, and converting by bit operations in
 * registers ran slower than the plain loop of {@link StoredFloats}, which the JIT compiles to the
 * processor's conversion instruction.
 */
final class StreamingProduct {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = switch (F.vectorBitSize()) { // F's lane count
        case 512 -> ShortVector.SPECIES_256;
        case 256 -> ShortVector.SPECIES_128;
        default -> ShortVector.SPECIES_64;
    };
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort U16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final int PAIR_WIDTH = 2048; // the widest rows read two at a time; wider ones go four at a time
    private static final int TOKENS = 4;        // tokens per pass: 4 x 4 accumulators, 4 weights and an input fit the registers
    private static final int WIDEN = 512;       // f16 elements widened per row and piece: four rows of them (8 KiB) stay in L1

    // f16 pieces are converted into a heap array (a loop the JIT compiles to the processor's conversion), then copied
    // off the heap: vector loads from a heap-backed segment run several times slower than from a native one
    private static final Scratch STAGED = new Scratch();
    private static final ThreadLocal<MemorySegment> WIDENED = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(4L * 4 * WIDEN, 64));

    private StreamingProduct() {}

    /** out[t, o0 .. o1) = bias + x[t, :] . w[o, :] for every token. */
    static void multiplyRows(float[] x, int tokens, int in, TensorView w, float[] bias, float[] out, int outDim, int o0, int o1) {
        int rows = in <= PAIR_WIDTH && tokens < TOKENS ? 2 : 4;
        boolean widen = w.dtype() == DType.F16;
        int piece = widen ? WIDEN : in;
        DType read = widen ? DType.F32 : w.dtype();
        float[] staged = widen ? STAGED.floats(rows * WIDEN) : null;
        MemorySegment buffer = widen ? WIDENED.get() : null;
        long rowBytes = (long) in * w.dtype().bytes();
        float[] sums = new float[tokens * rows];
        int[] row = new int[rows];
        MemorySegment[] slice = new MemorySegment[4];
        // stream k walks rows o0 + k * span + j, j = 0, 1, ...: long runs through the block, however short a row
        int span = (o1 - o0 + rows - 1) / rows;
        for (int j = 0; j < span; j++) {
            for (int k = 0; k < rows; k++) row[k] = o0 + k * span + j < o1 ? o0 + k * span + j : -1;
            Arrays.fill(sums, 0f);
            for (int c = 0; c < in; c += piece) {
                int n = Math.min(piece, in - c);
                for (int k = 0; k < rows; k++) {
                    int r = row[k] >= 0 ? row[k] : row[0]; // past the block's end: the first row again, its sums dropped
                    if (widen) {
                        StoredFloats.copy(w, (long) r * in + c, staged, k * WIDEN, n);
                        slice[k] = buffer.asSlice(4L * k * WIDEN, 4L * n);
                    } else {
                        slice[k] = w.data().asSlice(r * rowBytes, rowBytes);
                    }
                }
                if (widen) MemorySegment.copy(staged, 0, buffer, F32_LE, 0, rows * WIDEN);
                int t = 0;
                if (rows == 2) {
                    for (; t + TOKENS <= tokens; t += TOKENS) dot4x2(x, t * in + c, in, n, read, slice[0], slice[1], sums, t * rows);
                    for (; t < tokens; t++) dot1x2(x, t * in + c, n, read, slice[0], slice[1], sums, t * rows);
                } else {
                    for (; t + TOKENS <= tokens; t += TOKENS) dot4x4(x, t * in + c, in, n, read, slice[0], slice[1], slice[2], slice[3], sums, t * rows);
                    for (; t < tokens; t++) dot1x4(x, t * in + c, n, read, slice[0], slice[1], slice[2], slice[3], sums, t * rows);
                }
            }
            for (int t = 0; t < tokens; t++) {
                for (int k = 0; k < rows; k++) {
                    int r = row[k];
                    if (r >= 0) out[t * outDim + r] = sums[t * rows + k] + (bias == null ? 0 : bias[r]);
                }
            }
        }
    }

    /** sums[at + k] += x[xo .. xo + n) . row k (k = 0, 1), the rows as slices of their stored values. */
    private static void dot1x2(float[] x, int xo, int n, DType dtype, MemorySegment w0, MemorySegment w1, float[] sums, int at) {
        FloatVector a0 = FloatVector.zero(F), b0 = a0, a1 = a0, b1 = a0;
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i), u = FloatVector.fromArray(F, x, xo + i + L);
            a0 = v.fma(load(w0, dtype, i), a0);
            b0 = u.fma(load(w0, dtype, i + L), b0);
            a1 = v.fma(load(w1, dtype, i), a1);
            b1 = u.fma(load(w1, dtype, i + L), b1);
        }
        if (i + L <= n) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            a0 = v.fma(load(w0, dtype, i), a0);
            a1 = v.fma(load(w1, dtype, i), a1);
            i += L;
        }
        float s0 = Lanes.sum(a0.add(b0)), s1 = Lanes.sum(a1.add(b1));
        for (; i < n; i++) {
            float v = x[xo + i];
            s0 += v * element(w0, dtype, i);
            s1 += v * element(w1, dtype, i);
        }
        sums[at] += s0;
        sums[at + 1] += s1;
    }

    /** {@link #dot1x2} for four tokens, x of token t at xo + t * xStride: sums[at + 2t + k] += . */
    private static void dot4x2(float[] x, int xo, int xStride, int n, DType dtype, MemorySegment w0, MemorySegment w1, float[] sums, int at) {
        int x0 = xo, x1 = xo + xStride, x2 = xo + 2 * xStride, x3 = xo + 3 * xStride;
        FloatVector a00 = FloatVector.zero(F), b00 = a00, a01 = a00, b01 = a00, a10 = a00, b10 = a00, a11 = a00, b11 = a00;
        FloatVector a20 = a00, b20 = a00, a21 = a00, b21 = a00, a30 = a00, b30 = a00, a31 = a00, b31 = a00;
        int i = 0;
        for (; i + 2 * L <= n; i += 2 * L) {
            FloatVector p0 = load(w0, dtype, i), q0 = load(w0, dtype, i + L), p1 = load(w1, dtype, i), q1 = load(w1, dtype, i + L);
            FloatVector v = FloatVector.fromArray(F, x, x0 + i), u = FloatVector.fromArray(F, x, x0 + i + L);
            a00 = v.fma(p0, a00);
            b00 = u.fma(q0, b00);
            a01 = v.fma(p1, a01);
            b01 = u.fma(q1, b01);
            v = FloatVector.fromArray(F, x, x1 + i);
            u = FloatVector.fromArray(F, x, x1 + i + L);
            a10 = v.fma(p0, a10);
            b10 = u.fma(q0, b10);
            a11 = v.fma(p1, a11);
            b11 = u.fma(q1, b11);
            v = FloatVector.fromArray(F, x, x2 + i);
            u = FloatVector.fromArray(F, x, x2 + i + L);
            a20 = v.fma(p0, a20);
            b20 = u.fma(q0, b20);
            a21 = v.fma(p1, a21);
            b21 = u.fma(q1, b21);
            v = FloatVector.fromArray(F, x, x3 + i);
            u = FloatVector.fromArray(F, x, x3 + i + L);
            a30 = v.fma(p0, a30);
            b30 = u.fma(q0, b30);
            a31 = v.fma(p1, a31);
            b31 = u.fma(q1, b31);
        }
        if (i + L <= n) {
            FloatVector p0 = load(w0, dtype, i), p1 = load(w1, dtype, i);
            FloatVector v = FloatVector.fromArray(F, x, x0 + i);
            a00 = v.fma(p0, a00);
            a01 = v.fma(p1, a01);
            v = FloatVector.fromArray(F, x, x1 + i);
            a10 = v.fma(p0, a10);
            a11 = v.fma(p1, a11);
            v = FloatVector.fromArray(F, x, x2 + i);
            a20 = v.fma(p0, a20);
            a21 = v.fma(p1, a21);
            v = FloatVector.fromArray(F, x, x3 + i);
            a30 = v.fma(p0, a30);
            a31 = v.fma(p1, a31);
            i += L;
        }
        sums[at] += Lanes.sum(a00.add(b00));
        sums[at + 1] += Lanes.sum(a01.add(b01));
        sums[at + 2] += Lanes.sum(a10.add(b10));
        sums[at + 3] += Lanes.sum(a11.add(b11));
        sums[at + 4] += Lanes.sum(a20.add(b20));
        sums[at + 5] += Lanes.sum(a21.add(b21));
        sums[at + 6] += Lanes.sum(a30.add(b30));
        sums[at + 7] += Lanes.sum(a31.add(b31));
        for (; i < n; i++) {
            float e0 = element(w0, dtype, i), e1 = element(w1, dtype, i);
            for (int t = 0; t < TOKENS; t++) {
                float v = x[xo + t * xStride + i];
                sums[at + 2 * t] += v * e0;
                sums[at + 2 * t + 1] += v * e1;
            }
        }
    }

    /** sums[at + k] += x[xo .. xo + n) . row k (k = 0 .. 3), one vector of each row per step. */
    private static void dot1x4(float[] x, int xo, int n, DType dtype, MemorySegment w0, MemorySegment w1, MemorySegment w2, MemorySegment w3,
                               float[] sums, int at) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            a0 = v.fma(load(w0, dtype, i), a0);
            a1 = v.fma(load(w1, dtype, i), a1);
            a2 = v.fma(load(w2, dtype, i), a2);
            a3 = v.fma(load(w3, dtype, i), a3);
        }
        float s0 = Lanes.sum(a0), s1 = Lanes.sum(a1), s2 = Lanes.sum(a2), s3 = Lanes.sum(a3);
        for (; i < n; i++) {
            float v = x[xo + i];
            s0 += v * element(w0, dtype, i);
            s1 += v * element(w1, dtype, i);
            s2 += v * element(w2, dtype, i);
            s3 += v * element(w3, dtype, i);
        }
        sums[at] += s0;
        sums[at + 1] += s1;
        sums[at + 2] += s2;
        sums[at + 3] += s3;
    }

    /** {@link #dot1x4} for four tokens, x of token t at xo + t * xStride: sums[at + 4t + k] += . */
    private static void dot4x4(float[] x, int xo, int xStride, int n, DType dtype, MemorySegment w0, MemorySegment w1, MemorySegment w2,
                               MemorySegment w3, float[] sums, int at) {
        int x0 = xo, x1 = xo + xStride, x2 = xo + 2 * xStride, x3 = xo + 3 * xStride;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector p0 = load(w0, dtype, i), p1 = load(w1, dtype, i), p2 = load(w2, dtype, i), p3 = load(w3, dtype, i);
            FloatVector v = FloatVector.fromArray(F, x, x0 + i);
            a00 = v.fma(p0, a00);
            a01 = v.fma(p1, a01);
            a02 = v.fma(p2, a02);
            a03 = v.fma(p3, a03);
            v = FloatVector.fromArray(F, x, x1 + i);
            a10 = v.fma(p0, a10);
            a11 = v.fma(p1, a11);
            a12 = v.fma(p2, a12);
            a13 = v.fma(p3, a13);
            v = FloatVector.fromArray(F, x, x2 + i);
            a20 = v.fma(p0, a20);
            a21 = v.fma(p1, a21);
            a22 = v.fma(p2, a22);
            a23 = v.fma(p3, a23);
            v = FloatVector.fromArray(F, x, x3 + i);
            a30 = v.fma(p0, a30);
            a31 = v.fma(p1, a31);
            a32 = v.fma(p2, a32);
            a33 = v.fma(p3, a33);
        }
        sums[at] += Lanes.sum(a00);
        sums[at + 1] += Lanes.sum(a01);
        sums[at + 2] += Lanes.sum(a02);
        sums[at + 3] += Lanes.sum(a03);
        sums[at + 4] += Lanes.sum(a10);
        sums[at + 5] += Lanes.sum(a11);
        sums[at + 6] += Lanes.sum(a12);
        sums[at + 7] += Lanes.sum(a13);
        sums[at + 8] += Lanes.sum(a20);
        sums[at + 9] += Lanes.sum(a21);
        sums[at + 10] += Lanes.sum(a22);
        sums[at + 11] += Lanes.sum(a23);
        sums[at + 12] += Lanes.sum(a30);
        sums[at + 13] += Lanes.sum(a31);
        sums[at + 14] += Lanes.sum(a32);
        sums[at + 15] += Lanes.sum(a33);
        for (; i < n; i++) {
            float e0 = element(w0, dtype, i), e1 = element(w1, dtype, i), e2 = element(w2, dtype, i), e3 = element(w3, dtype, i);
            for (int t = 0; t < TOKENS; t++) {
                float v = x[xo + t * xStride + i];
                sums[at + 4 * t] += v * e0;
                sums[at + 4 * t + 1] += v * e1;
                sums[at + 4 * t + 2] += v * e2;
                sums[at + 4 * t + 3] += v * e3;
            }
        }
    }

    /** L stored values of a row from element i on, widened to fp32. */
    private static FloatVector load(MemorySegment row, DType dtype, int i) {
        return switch (dtype) {
            case F32 -> FloatVector.fromMemorySegment(F, row, 4L * i, LE);
            case BF16 -> bf16(row, 2L * i);
            case F16 -> throw new IllegalStateException("f16 rows are widened before the kernels"); // multiplyRows does that
        };
    }

    /** One stored value of a row (F32 or BF16), for the tails. */
    private static float element(MemorySegment row, DType dtype, int i) {
        return dtype == DType.F32 ? row.get(F32_LE, 4L * i) : Float.intBitsToFloat((row.get(U16_LE, 2L * i) & 0xffff) << 16);
    }

    /** bf16 is the top half of an fp32: L values widen to int lanes and move up 16 bits (the sign-extended bits drop out). */
    private static FloatVector bf16(MemorySegment data, long byteOffset) {
        IntVector bits = (IntVector) ShortVector.fromMemorySegment(S, data, byteOffset, LE).convertShape(VectorOperators.S2I, I, 0);
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
