package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The product of fp32 activations with a stored weight, as a linear layer computes it:
 * {@code out[t, o] = sum_i x[t, i] * w[o, i] + bias[o]}. The weight stays in its stored dtype. Tasks
 * own blocks of output rows and run on all cores. Prompts ({@value #PANEL_TOKENS} tokens or more) go
 * through {@link PanelProduct}; fewer tokens (decode steps, beams, short prompts: bound by reading the
 * weight) through {@link StreamingProduct}, which reads F32 and BF16 straight from storage. F16 weights
 * with few tokens are converted here instead: a task walks the input dimension in chunks that keep
 * the converted weights and a block of tokens in L2 however wide the layer (OPT-6.7B's fc2 reads 16384
 * inputs); each row pair's chunk is converted to fp32 just before use, into L1, and every token runs
 * over it four tokens by two rows at a time so that one vector load feeds several multiply-adds.
 */
public final class MatMul {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNK = 2048;                  // input columns per pass: 1024 ran prompts 5-10 % slower at width 2048
    private static final int WEIGHT_TILE_BYTES = 512 * 1024; // converted weights of one task and chunk
    private static final int TOKEN_TILE_BYTES = 256 * 1024;  // activations of one token block and chunk
    static final int PANEL_TOKENS = 128;                    // from here on weights are packed into panels: below, packing costs more than it saves
    private static final long SERIAL_WORK = 1L << 16;       // multiply-adds below which forking costs more than it saves
    private static final Scratch SCRATCH = new Scratch();

    private MatMul() {}

    /** x [tokens, in], w [outDim, in] (F32/F16/BF16), bias [outDim] or null, out [tokens, outDim]. */
    public static void multiply(float[] x, int tokens, TensorView w, float[] bias, float[] out) {
        int outDim = w.dim(0), in = w.dim(1);
        checkShapes(x, tokens, w, bias, out);
        boolean panels = tokens >= PANEL_TOKENS, streaming = !panels && w.dtype() != DType.F16;
        int rowBlock = panels ? Math.max(F.length(), rowBlock(outDim, in) / F.length() * F.length()) // whole panels of L rows
                : streaming ? balancedRows(outDim)
                : rowBlock(outDim, in);
        int blocks = (outDim + rowBlock - 1) / rowBlock;
        IntConsumer block = panels
                ? b -> PanelProduct.multiplyRows(x, tokens, in, w, bias, out, outDim, b * rowBlock, Math.min(outDim, (b + 1) * rowBlock), CHUNK)
                : streaming ? b -> StreamingProduct.multiplyRows(x, tokens, in, w, bias, out, outDim, b * rowBlock, Math.min(outDim, (b + 1) * rowBlock))
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
        return Math.min(byTile, balancedRows(outDim)) & ~1;
    }

    /** Rows per task for four tasks per core, so that a slow core holds up the others little. */
    private static int balancedRows(int outDim) { return Math.max(2, (outDim + 4 * Parallel.cores() - 1) / (4 * Parallel.cores())); }

    private static void multiplyRows(float[] x, int tokens, int in, TensorView w, float[] bias, float[] out, int outDim, int o0, int o1) {
        int rows = o1 - o0;
        for (int t = 0; t < tokens; t++) {
            for (int o = o0; o < o1; o++) out[t * outDim + o] = bias == null ? 0 : bias[o];
        }
        float[] wt = SCRATCH.floats(rows * Math.min(in, CHUNK)); // [rows, chunk] fp32
        for (int k0 = 0; k0 < in; k0 += CHUNK) {
            int kc = Math.min(CHUNK, in - k0);
            int tokenBlock = Math.max(4, (TOKEN_TILE_BYTES / (4 * kc)) & ~3);
            for (int t0 = 0; t0 < tokens; t0 += tokenBlock) {
                int t1 = Math.min(tokens, t0 + tokenBlock);
                for (int r = 0; r < rows; r += 2) {
                    // the first token block converts each row pair just before using it, while it is in L1
                    if (t0 == 0) {
                        for (int i = r; i < Math.min(r + 2, rows); i++) StoredFloats.copy(w, (long) (o0 + i) * in + k0, wt, i * kc, kc);
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
        float s00 = Lanes.sum(a00), s01 = Lanes.sum(a01);
        float s10 = Lanes.sum(a10), s11 = Lanes.sum(a11);
        float s20 = Lanes.sum(a20), s21 = Lanes.sum(a21);
        float s30 = Lanes.sum(a30), s31 = Lanes.sum(a31);
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
        float s0 = Lanes.sum(a0), s1 = Lanes.sum(a1);
        for (; i < n; i++) {
            s0 += x[xo + i] * w[wo + i];
            s1 += x[xo + i] * w[wo + n + i];
        }
        out[oo] += s0;
        out[oo + 1] += s1;
    }
}
