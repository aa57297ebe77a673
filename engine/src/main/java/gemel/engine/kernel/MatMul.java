package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The product of fp32 activations with a stored weight, as a linear layer computes it:
 * {@code out[t, o] = sum_i x[t, i] * w[o, i] + bias[o]}. The weight stays in its stored dtype. Tasks
 * own blocks of output rows and run on all cores. Two ways through a block:
 * <ul>
 * <li>many tokens (a prompt): walk the input dimension in chunks, convert each row pair's chunk to
 *     fp32 once and run every token over it, four tokens by two rows at a time so that one vector load
 *     feeds several multiply-adds; chunks keep the converted weights and a block of tokens in L2 however
 *     wide the layer (OPT-6.7B's fc2 reads 16384 inputs);</li>
 * <li>a few tokens (a decode step): the product is bound by reading the weight, so each weight vector
 *     is loaded and converted in registers straight from storage.</li>
 * </ul>
 */
public final class MatMul {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNK = 1024;                  // input columns per pass
    private static final int WEIGHT_TILE_BYTES = 512 * 1024; // converted weights of one task and chunk
    private static final int TOKEN_TILE_BYTES = 256 * 1024;  // activations of one token block and chunk
    private static final long SERIAL_WORK = 1L << 16;       // multiply-adds below which forking costs more than it saves
    private static final int IN_PLACE_TOKENS = 8;            // up to this many tokens (a decode step of a few beams) read weights in place
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2)); // F's lane count
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private MatMul() {}

    /** x [tokens, in], w [outDim, in] (F32/F16/BF16), bias [outDim] or null, out [tokens, outDim]. */
    public static void multiply(float[] x, int tokens, TensorView w, float[] bias, float[] out) {
        int outDim = w.dim(0), in = w.dim(1);
        checkShapes(x, tokens, w, bias, out);
        int rowBlock = rowBlock(outDim, in);
        int blocks = (outDim + rowBlock - 1) / rowBlock;
        IntConsumer block = tokens <= IN_PLACE_TOKENS
                ? b -> multiplyRowsInPlace(x, tokens, in, w, bias, out, outDim, b * rowBlock, Math.min(outDim, (b + 1) * rowBlock))
                : b -> multiplyRows(x, tokens, in, w, bias, out, outDim, b * rowBlock, Math.min(outDim, (b + 1) * rowBlock));
        if ((long) tokens * in * outDim < SERIAL_WORK) {
            for (int b = 0; b < blocks; b++) block.accept(b);
        } else {
            Parallel.forEach(blocks, block);
        }
    }

    /** The scalar twin of {@link #multiply}: the plain triple loop, reading the weight one element at a time. */
    public static void multiplyScalar(float[] x, int tokens, TensorView w, float[] bias, float[] out) {
        int outDim = w.dim(0), in = w.dim(1);
        checkShapes(x, tokens, w, bias, out);
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < outDim; o++) {
                float sum = 0;
                for (int i = 0; i < in; i++) sum += x[t * in + i] * w.get((long) o * in + i);
                out[t * outDim + o] = sum + (bias == null ? 0 : bias[o]);
            }
        }
    }

    private static void checkShapes(float[] x, int tokens, TensorView w, float[] bias, float[] out) {
        if (w.rank() != 2) throw new IllegalArgumentException("weight " + w + " is not a matrix");
        int outDim = w.dim(0), in = w.dim(1);
        if ((long) tokens * in > x.length)
            throw new IllegalArgumentException("input has " + x.length + " floats, " + tokens + " tokens x " + in + " needed for " + w);
        if ((long) tokens * outDim > out.length)
            throw new IllegalArgumentException("output has " + out.length + " floats, " + tokens + " tokens x " + outDim + " needed for " + w);
        if (bias != null && bias.length != outDim)
            throw new IllegalArgumentException("bias has " + bias.length + " floats, " + w + " has " + outDim + " rows");
    }

    /** Rows per task: a converted chunk fits the tile budget, and there are a few tasks per core. */
    private static int rowBlock(int outDim, int in) {
        int byTile = Math.max(2, WEIGHT_TILE_BYTES / (4 * Math.max(1, Math.min(in, CHUNK))));
        int byBalance = Math.max(2, (outDim + 4 * Parallel.cores() - 1) / (4 * Parallel.cores()));
        return Math.min(byTile, byBalance) & ~1;
    }

    private static void multiplyRows(float[] x, int tokens, int in, TensorView w, float[] bias, float[] out, int outDim, int o0, int o1) {
        int rows = o1 - o0;
        for (int t = 0; t < tokens; t++) {
            for (int o = o0; o < o1; o++) out[t * outDim + o] = bias == null ? 0 : bias[o];
        }
        float[] wt = scratch(rows * Math.min(in, CHUNK)); // [rows, chunk] fp32
        for (int k0 = 0; k0 < in; k0 += CHUNK) {
            int kc = Math.min(CHUNK, in - k0);
            int tokenBlock = Math.max(4, (TOKEN_TILE_BYTES / (4 * kc)) & ~3);
            for (int t0 = 0; t0 < tokens; t0 += tokenBlock) {
                int t1 = Math.min(tokens, t0 + tokenBlock);
                for (int r = 0; r < rows; r += 2) {
                    // the first token block converts each row pair just before using it, while it is in L1
                    if (t0 == 0) {
                        for (int i = r; i < Math.min(r + 2, rows); i++) w.copyTo((long) (o0 + i) * in + k0, wt, i * kc, kc);
                    }
                    if (r + 1 < rows) {
                        int t = t0;
                        for (; t + 3 < t1; t += 4) dot4x2(x, t * in + k0, in, wt, r * kc, kc, out, t * outDim + o0 + r, outDim);
                        for (; t < t1; t++) dot1x2(x, t * in + k0, wt, r * kc, kc, out, t * outDim + o0 + r);
                    } else {
                        for (int t = t0; t < t1; t++) out[t * outDim + o0 + r] += Vectors.dot(x, t * in + k0, wt, r * kc, kc);
                    }
                }
            }
        }
    }

    /**
     * The decode case: few tokens, so the product is bound by reading the weight. Each weight vector
     * is loaded and converted in registers straight from storage and serves every token, four at a
     * time (a fifth token re-reads the row pair from L1).
     */
    private static void multiplyRowsInPlace(float[] x, int tokens, int in, TensorView w, float[] bias, float[] out, int outDim, int o0, int o1) {
        int end = F.loopBound(in);
        for (int o = o0; o < o1; o += 2) {
            int o2 = Math.min(o + 1, o1 - 1); // an odd last row pairs with itself
            long w0 = (long) o * in, w1 = (long) o2 * in;
            int t = 0;
            for (; t + 3 < tokens; t += 4) inPlace4x2(x, t * in, in, w, w0, w1, end, out, t * outDim + o, outDim, o2 > o);
            for (; t < tokens; t++) inPlace1x2(x, t * in, w, w0, w1, end, out, t * outDim + o, o2 > o);
            for (t = 0; t < tokens; t++) {
                for (int r = o; r <= o2; r++) {
                    float sum = bias == null ? 0 : bias[r];
                    for (int i = end; i < in; i++) sum += x[t * in + i] * w.get((long) r * in + i);
                    out[t * outDim + r] += sum;
                }
            }
        }
    }

    /** Four tokens against weight rows starting at elements w0 and w1, columns [0, end); writes (not adds) out. */
    private static void inPlace4x2(float[] x, int xo, int xStride, TensorView w, long w0, long w1, int end, float[] out, int oo, int stride,
                                   boolean second) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        MemorySegment data = w.data();
        for (int i = 0; i < end; i += F.length()) {
            FloatVector v0 = load(data, w, w0 + i), v1 = load(data, w, w1 + i);
            FloatVector x0 = FloatVector.fromArray(F, x, xo + i);
            a00 = x0.fma(v0, a00);
            a01 = x0.fma(v1, a01);
            FloatVector x1 = FloatVector.fromArray(F, x, xo + xStride + i);
            a10 = x1.fma(v0, a10);
            a11 = x1.fma(v1, a11);
            FloatVector x2 = FloatVector.fromArray(F, x, xo + 2 * xStride + i);
            a20 = x2.fma(v0, a20);
            a21 = x2.fma(v1, a21);
            FloatVector x3 = FloatVector.fromArray(F, x, xo + 3 * xStride + i);
            a30 = x3.fma(v0, a30);
            a31 = x3.fma(v1, a31);
        }
        out[oo] = a00.reduceLanes(VectorOperators.ADD);
        out[oo + stride] = a10.reduceLanes(VectorOperators.ADD);
        out[oo + 2 * stride] = a20.reduceLanes(VectorOperators.ADD);
        out[oo + 3 * stride] = a30.reduceLanes(VectorOperators.ADD);
        if (second) {
            out[oo + 1] = a01.reduceLanes(VectorOperators.ADD);
            out[oo + stride + 1] = a11.reduceLanes(VectorOperators.ADD);
            out[oo + 2 * stride + 1] = a21.reduceLanes(VectorOperators.ADD);
            out[oo + 3 * stride + 1] = a31.reduceLanes(VectorOperators.ADD);
        }
    }

    private static void inPlace1x2(float[] x, int xo, TensorView w, long w0, long w1, int end, float[] out, int oo, boolean second) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        MemorySegment data = w.data();
        for (int i = 0; i < end; i += F.length()) {
            FloatVector x0 = FloatVector.fromArray(F, x, xo + i);
            a0 = x0.fma(load(data, w, w0 + i), a0);
            a1 = x0.fma(load(data, w, w1 + i), a1);
        }
        out[oo] = a0.reduceLanes(VectorOperators.ADD);
        if (second) out[oo + 1] = a1.reduceLanes(VectorOperators.ADD);
    }

    /** F.length() weights from flat element {@code element} of w, converted to fp32 in registers, exactly as {@link TensorView#get}. */
    private static FloatVector load(MemorySegment data, TensorView w, long element) {
        return switch (w.dtype()) {
            case F32 -> FloatVector.fromMemorySegment(F, data, element * 4, ByteOrder.LITTLE_ENDIAN);
            case BF16 -> sixteenBits(data, element).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            case F16 -> {
                IntVector bits = sixteenBits(data, element);
                IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
                IntVector half = bits.and(0x7fff);
                IntVector magnitude = half.lanewise(VectorOperators.LSHL, 13);
                // exponent and mantissa land in the float's fields; one multiply by 2^(127 - 15) rebiases, subnormals included
                IntVector value = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
                VectorMask<Integer> infOrNan = half.compare(VectorOperators.GE, 0x7c00);
                if (infOrNan.anyTrue()) {
                    VectorMask<Integer> nan = half.compare(VectorOperators.GT, 0x7c00);
                    value = value.blend(magnitude.or(0x7f800000), infOrNan).blend(magnitude.or(0x7fc00000), nan); // NaNs quiet, as Java's
                }
                yield value.or(sign).reinterpretAsFloats();
            }
        };
    }

    private static IntVector sixteenBits(MemorySegment data, long element) {
        return (IntVector) ShortVector.fromMemorySegment(S, data, element * 2, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
    }

    private static float[] scratch(int size) {
        float[] s = SCRATCH.get();
        if (s.length < size) {
            s = new float[size];
            SCRATCH.set(s);
        }
        return s;
    }

    /**
     * Four tokens (x at xo + k * xStride) against two weight rows (w at wo and wo + n), n columns;
     * adds to out[oo + k * stride + j].
     */
    private static void dot4x2(float[] x, int xo, int xStride, float[] w, int wo, int n, float[] out, int oo, int stride) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector w0 = FloatVector.fromArray(F, w, wo + i), w1 = FloatVector.fromArray(F, w, wo + n + i);
            FloatVector x0 = FloatVector.fromArray(F, x, xo + i);
            a00 = x0.fma(w0, a00);
            a01 = x0.fma(w1, a01);
            FloatVector x1 = FloatVector.fromArray(F, x, xo + xStride + i);
            a10 = x1.fma(w0, a10);
            a11 = x1.fma(w1, a11);
            FloatVector x2 = FloatVector.fromArray(F, x, xo + 2 * xStride + i);
            a20 = x2.fma(w0, a20);
            a21 = x2.fma(w1, a21);
            FloatVector x3 = FloatVector.fromArray(F, x, xo + 3 * xStride + i);
            a30 = x3.fma(w0, a30);
            a31 = x3.fma(w1, a31);
        }
        float s00 = a00.reduceLanes(VectorOperators.ADD), s01 = a01.reduceLanes(VectorOperators.ADD);
        float s10 = a10.reduceLanes(VectorOperators.ADD), s11 = a11.reduceLanes(VectorOperators.ADD);
        float s20 = a20.reduceLanes(VectorOperators.ADD), s21 = a21.reduceLanes(VectorOperators.ADD);
        float s30 = a30.reduceLanes(VectorOperators.ADD), s31 = a31.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float w0 = w[wo + i], w1 = w[wo + n + i];
            float x0 = x[xo + i], x1 = x[xo + xStride + i], x2 = x[xo + 2 * xStride + i], x3 = x[xo + 3 * xStride + i];
            s00 += x0 * w0;
            s01 += x0 * w1;
            s10 += x1 * w0;
            s11 += x1 * w1;
            s20 += x2 * w0;
            s21 += x2 * w1;
            s30 += x3 * w0;
            s31 += x3 * w1;
        }
        out[oo] += s00;
        out[oo + 1] += s01;
        out[oo + stride] += s10;
        out[oo + stride + 1] += s11;
        out[oo + 2 * stride] += s20;
        out[oo + 2 * stride + 1] += s21;
        out[oo + 3 * stride] += s30;
        out[oo + 3 * stride + 1] += s31;
    }

    /** One token against two weight rows (the decode case, bound by reading the weight); adds to out[oo], out[oo + 1]. */
    private static void dot1x2(float[] x, int xo, float[] w, int wo, int n, float[] out, int oo) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector x0 = FloatVector.fromArray(F, x, xo + i);
            a0 = x0.fma(FloatVector.fromArray(F, w, wo + i), a0);
            a1 = x0.fma(FloatVector.fromArray(F, w, wo + n + i), a1);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s0 += x[xo + i] * w[wo + i];
            s1 += x[xo + i] * w[wo + n + i];
        }
        out[oo] += s0;
        out[oo + 1] += s1;
    }
}
