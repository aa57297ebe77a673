package gemel.engine.grad.exact;

import gemel.engine.io.TensorView;

/**
 * RMSNorm (Llama), {@code y = x * r * g} with {@code r = 1 / sqrt(mean(x^2) + eps)}. Forward saves r
 * per row; backward: {@code dx = r * (dy * g) - x * r^3 * mean(dy * g * x)}.
 */
final class RmsNormBlock implements Normalization {
    private final double[] gain; // [width]
    private final double eps;
    final int width;

    RmsNormBlock(TensorView gain, int width, double eps) {
        this.gain = DenseMath.toDoubles(gain.requireShape(width));
        this.width = width;
        this.eps = eps;
    }

    @Override
    public Saved forward(double[] x, int rows) {
        double[] r = new double[rows], y = new double[rows * width];
        for (int row = 0; row < rows; row++) {
            int o = row * width;
            double ss = 0;
            for (int i = 0; i < width; i++) ss += x[o + i] * x[o + i];
            double inv = 1 / Math.sqrt(ss / width + eps);
            r[row] = inv;
            for (int i = 0; i < width; i++) y[o + i] = x[o + i] * inv * gain[i];
        }
        return new Saved(x, null, r, y);
    }

    @Override
    public double[] backward(Saved saved, double[] dy, int rows) {
        double[] dx = new double[rows * width];
        for (int row = 0; row < rows; row++) {
            int o = row * width;
            double inv = saved.rstd()[row], dot = 0;
            for (int i = 0; i < width; i++) dot += dy[o + i] * gain[i] * saved.x()[o + i];
            double c = inv * inv * inv * dot / width;
            for (int i = 0; i < width; i++) dx[o + i] = inv * dy[o + i] * gain[i] - c * saved.x()[o + i];
        }
        return dx;
    }
}
