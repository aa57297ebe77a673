package gemel.engine.grad.exact;

import gemel.engine.io.TensorView;

/**
 * LayerNorm over the last dimension, {@code y = (x - mean) * rstd * g + b}. Forward saves mean and
 * rstd per row; backward: {@code dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))}
 * with {@code dxhat = dy * g}.
 */
final class LayerNormBlock implements Normalization {
    private final double[] gain; // [width]
    private final double[] bias; // [width]
    private final double eps;
    final int width;

    LayerNormBlock(TensorView gain, TensorView bias, int width, double eps) {
        this.width = width;
        this.gain = gain == null ? ones(width) : DenseMath.toDoubles(gain.requireShape(width));
        this.bias = bias == null ? new double[width] : DenseMath.toDoubles(bias.requireShape(width));
        this.eps = eps;
    }

    @Override
    public Saved forward(double[] x, int rows) {
        double[] mean = new double[rows], rstd = new double[rows], y = new double[rows * width];
        for (int r = 0; r < rows; r++) {
            int o = r * width;
            double m = 0;
            for (int i = 0; i < width; i++) m += x[o + i];
            m /= width;
            double var = 0;
            for (int i = 0; i < width; i++) var += (x[o + i] - m) * (x[o + i] - m);
            double s = 1 / Math.sqrt(var / width + eps);
            mean[r] = m;
            rstd[r] = s;
            for (int i = 0; i < width; i++) y[o + i] = (x[o + i] - m) * s * gain[i] + bias[i];
        }
        return new Saved(x, mean, rstd, y);
    }

    @Override
    public double[] backward(Saved saved, double[] dy, int rows) {
        double[] dx = new double[rows * width];
        for (int r = 0; r < rows; r++) {
            int o = r * width;
            double m = saved.mean()[r], s = saved.rstd()[r];
            double meanG = 0, meanGx = 0;
            for (int i = 0; i < width; i++) {
                double g = dy[o + i] * gain[i], xhat = (saved.x()[o + i] - m) * s;
                meanG += g;
                meanGx += g * xhat;
            }
            meanG /= width;
            meanGx /= width;
            for (int i = 0; i < width; i++) {
                double xhat = (saved.x()[o + i] - m) * s;
                dx[o + i] = s * (dy[o + i] * gain[i] - meanG - xhat * meanGx);
            }
        }
        return dx;
    }

    private static double[] ones(int n) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, 1);
        return a;
    }
}
