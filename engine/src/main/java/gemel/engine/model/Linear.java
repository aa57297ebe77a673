package gemel.engine.model;

import gemel.engine.io.TensorView;
import gemel.engine.kernel.MatMul;

/** A linear layer as stored: weight [out, in] in its stored dtype, bias [out] in fp32 or null. */
public record Linear(TensorView weight, float[] bias) {

    public int inputs() { return weight.dim(1); }

    public int outputs() { return weight.dim(0); }

    /** x [rows, in] -> a new [rows, out]. */
    float[] apply(float[] x, int rows) {
        float[] out = new float[rows * outputs()];
        MatMul.multiply(x, rows, weight, bias, out);
        return out;
    }
}
