package gemel.engine.kernel;

import gemel.engine.io.TensorView;

/**
 * The input gradient of a frozen linear layer w [out, in] read in its stored dtype (F32/F16/BF16):
 * {@code dx[rows, in] += dy[rows, out] · w}, the product a training pass needs besides the forward
 * ({@link MatMul}). It runs on the forward's prompt tiles ({@link PanelProduct}) with w's columns as the
 * outputs: each output is one chain of fused multiply-adds in order over each chunk of {@value MatMul#CHUNK}
 * values of out, the chunks' sums added to dx in turn. No sum is ever taken across vector lanes, so
 * results do not depend on the JIT tier or the split over cores. On the Xeon (Emerald Rapids) the
 * kernel this replaced (four rows against two vectors, eight accumulators) took 14 % of an OPT-125m
 * training step of 1,536 tokens.
 */
public final class LinearProducts {
    private LinearProducts() {}

    /** dx [rows, in] += dy [rows, out] · w. */
    public static void addInputGradient(float[] dy, int rows, TensorView w, float[] dx) {
        checkShapes(dy, rows, w, dx);
        MatMul.addTimesColumns(dy, rows, w, dx);
    }

    /** The scalar twin of {@link #addInputGradient}: the same chains of fused multiply-adds, chunk by chunk. */
    public static void addInputGradientScalar(float[] dy, int rows, TensorView w, float[] dx) {
        checkShapes(dy, rows, w, dx);
        int out = w.dim(0), in = w.dim(1);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < in; i++)
                for (int o0 = 0; o0 < out; o0 += MatMul.CHUNK) {
                    float sum = 0;
                    for (int o = o0; o < Math.min(out, o0 + MatMul.CHUNK); o++) sum = Math.fma(dy[r * out + o], w.get((long) o * in + i), sum);
                    dx[r * in + i] += sum;
                }
    }

    private static void checkShapes(float[] dy, int rows, TensorView w, float[] dx) {
        if (w.rank() != 2) throw new IllegalArgumentException("weight " + w + " is not a matrix");
        int out = w.dim(0), in = w.dim(1);
        if ((long) rows * out > dy.length)
            throw new IllegalArgumentException("output gradient has " + dy.length + " floats, " + rows + " rows x " + out + " needed for " + w);
        if ((long) rows * in > dx.length)
            throw new IllegalArgumentException("input gradient has " + dx.length + " floats, " + rows + " rows x " + in + " needed for " + w);
    }
}
