package gemel.engine.grad.exact;

import gemel.engine.io.TensorView;

/** A frozen linear layer {@code [out, in]} with an optional bias, forward and input gradient. */
final class Dense {
    private final TensorView weight; // [out, in]
    private final double[] bias;     // [out] or null
    final int in, out;

    Dense(TensorView weight, TensorView bias) {
        this.weight = weight;
        this.out = weight.dim(0);
        this.in = weight.dim(1);
        if (bias != null) bias.requireShape(out);
        this.bias = bias == null ? null : DenseMath.toDoubles(bias);
    }

    /** x [rows, in] -> [rows, out]. */
    double[] forward(double[] x, int rows) {
        return DenseMath.forward(x, rows, in, DenseMath.toDoubles(weight), out, bias);
    }

    /** dx [rows, in] += dy [rows, out] · W. */
    void backward(double[] dy, int rows, double[] dx) {
        DenseMath.backward(dy, rows, out, DenseMath.toDoubles(weight), in, dx);
    }

    /** dy [rows, out] · W as a fresh [rows, in]. */
    double[] backward(double[] dy, int rows) {
        double[] dx = new double[rows * in];
        backward(dy, rows, dx);
        return dx;
    }
}
