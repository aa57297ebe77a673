package gemel.engine.grad.exact;

import gemel.engine.io.TensorView;
import java.util.stream.IntStream;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two matrix products of a frozen linear layer in double precision: forward {@code y = x W^T + b}
 * and the input gradient {@code dX += dY W} (no weight gradient: the weights never change).
 * Weights are converted from their stored dtype per call, one matrix at a time. Work is split into
 * blocks of rows x blocks of columns that write disjoint outputs; inside a block a weight row is
 * read once for a tile of four activation rows.
 */
final class DenseMath {
    private static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_PREFERRED;
    private static final int ROW_BLOCK = 64, COLUMN_BLOCK = 256, TILE = 4;
    private static final long PARALLEL_WORK = 1 << 16;

    private DenseMath() {
    }

    /** The stored tensor as doubles, row-major. */
    static double[] toDoubles(TensorView view) {
        float[] f = view.toFloats();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** {@code y[rows, out] = x[rows, in] · w[out, in]^T (+ bias[out])}. */
    static double[] forward(double[] x, int rows, int in, double[] w, int out, double[] bias) {
        double[] y = new double[rows * out];
        blocks(rows, out, (long) in * out).forEach(block -> {
            int r0 = rowStart(block, out), r1 = Math.min(rows, r0 + ROW_BLOCK);
            int o0 = columnStart(block, out), o1 = Math.min(out, o0 + COLUMN_BLOCK);
            for (int o = o0; o < o1; o++) {
                int wo = o * in;
                double b = bias == null ? 0 : bias[o];
                int r = r0;
                for (; r + TILE <= r1; r += TILE) {
                    double[] s = dot4(x, r * in, in, w, wo);
                    for (int t = 0; t < TILE; t++) y[(r + t) * out + o] = s[t] + b;
                }
                for (; r < r1; r++) y[r * out + o] = dot(x, r * in, w, wo, in) + b;
            }
        });
        return y;
    }

    /** {@code dx[rows, in] += dy[rows, out] · w[out, in]}. */
    static void backward(double[] dy, int rows, int out, double[] w, int in, double[] dx) {
        blocks(rows, in, (long) in * out).forEach(block -> {
            int r0 = rowStart(block, in), r1 = Math.min(rows, r0 + ROW_BLOCK);
            int i0 = columnStart(block, in), i1 = Math.min(in, i0 + COLUMN_BLOCK);
            for (int o = 0; o < out; o++) {
                int wo = o * in;
                for (int r = r0; r < r1; r++) {
                    double g = dy[r * out + o];
                    if (g != 0) axpy(g, w, wo + i0, dx, r * in + i0, i1 - i0);
                }
            }
        });
    }

    /** Blocks of ROW_BLOCK rows x COLUMN_BLOCK output columns, in parallel when the product is large. */
    private static IntStream blocks(int rows, int columns, long workPerRow) {
        int rowBlocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK, columnBlocks = (columns + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
        IntStream s = IntStream.range(0, rowBlocks * columnBlocks);
        return rows * workPerRow >= PARALLEL_WORK ? s.parallel() : s;
    }

    private static int rowStart(int block, int columns) {
        return block / ((columns + COLUMN_BLOCK - 1) / COLUMN_BLOCK) * ROW_BLOCK;
    }

    private static int columnStart(int block, int columns) {
        return block % ((columns + COLUMN_BLOCK - 1) / COLUMN_BLOCK) * COLUMN_BLOCK;
    }

    /** Four dot products of rows {@code x[xo + k*n ..]}, k < 4, with {@code w[wo ..]}, length n. */
    private static double[] dot4(double[] x, int xo, int n, double[] w, int wo) {
        DoubleVector a0 = DoubleVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
        int i = 0, bound = SPECIES.loopBound(n);
        for (; i < bound; i += SPECIES.length()) {
            DoubleVector wv = DoubleVector.fromArray(SPECIES, w, wo + i);
            a0 = DoubleVector.fromArray(SPECIES, x, xo + i).fma(wv, a0);
            a1 = DoubleVector.fromArray(SPECIES, x, xo + n + i).fma(wv, a1);
            a2 = DoubleVector.fromArray(SPECIES, x, xo + 2 * n + i).fma(wv, a2);
            a3 = DoubleVector.fromArray(SPECIES, x, xo + 3 * n + i).fma(wv, a3);
        }
        double[] s = {a0.reduceLanes(VectorOperators.ADD), a1.reduceLanes(VectorOperators.ADD),
                a2.reduceLanes(VectorOperators.ADD), a3.reduceLanes(VectorOperators.ADD)};
        for (; i < n; i++) {
            double wi = w[wo + i];
            for (int t = 0; t < TILE; t++) s[t] += x[xo + t * n + i] * wi;
        }
        return s;
    }

    private static double dot(double[] x, int xo, double[] w, int wo, int n) {
        DoubleVector acc = DoubleVector.zero(SPECIES);
        int i = 0, bound = SPECIES.loopBound(n);
        for (; i < bound; i += SPECIES.length())
            acc = DoubleVector.fromArray(SPECIES, x, xo + i).fma(DoubleVector.fromArray(SPECIES, w, wo + i), acc);
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += x[xo + i] * w[wo + i];
        return s;
    }

    /** {@code y[yo .. yo+n) += a * x[xo .. xo+n)}. */
    private static void axpy(double a, double[] x, int xo, double[] y, int yo, int n) {
        DoubleVector av = DoubleVector.broadcast(SPECIES, a);
        int i = 0, bound = SPECIES.loopBound(n);
        for (; i < bound; i += SPECIES.length())
            DoubleVector.fromArray(SPECIES, x, xo + i).fma(av, DoubleVector.fromArray(SPECIES, y, yo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }
}
