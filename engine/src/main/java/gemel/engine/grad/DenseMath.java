package gemel.engine.grad;

import gemel.engine.io.TensorView;
import java.util.stream.IntStream;

/**
 * The two matrix products of a frozen linear layer in double precision: forward {@code y = x W^T + b}
 * and the input gradient {@code dX += dY W} (no weight gradient: the weights never change).
 * Weights are converted from their stored dtype per call, one matrix at a time.
 */
final class DenseMath {
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
        range(rows, (long) in * out).forEach(r -> {
            int xo = r * in, yo = r * out;
            for (int o = 0; o < out; o++) {
                double s = bias == null ? 0 : bias[o];
                int wo = o * in;
                for (int i = 0; i < in; i++) s += x[xo + i] * w[wo + i];
                y[yo + o] = s;
            }
        });
        return y;
    }

    /** {@code dx[rows, in] += dy[rows, out] · w[out, in]}. */
    static void backward(double[] dy, int rows, int out, double[] w, int in, double[] dx) {
        range(rows, (long) in * out).forEach(r -> {
            int xo = r * in, yo = r * out;
            for (int o = 0; o < out; o++) {
                double g = dy[yo + o];
                if (g == 0) continue;
                int wo = o * in;
                for (int i = 0; i < in; i++) dx[xo + i] += g * w[wo + i];
            }
        });
    }

    static IntStream range(int rows, long workPerRow) {
        IntStream s = IntStream.range(0, rows);
        return rows * workPerRow >= PARALLEL_WORK ? s.parallel() : s;
    }
}
