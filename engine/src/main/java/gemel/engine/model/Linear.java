package gemel.engine.model;

import gemel.engine.io.TensorView;
import gemel.engine.kernel.MatMul;

/** A linear layer as stored: weight [out, in] in its stored dtype, bias [out] in fp32 or null. */
record Linear(TensorView weight, float[] bias) {

    int outputs() { return weight.dim(0); }

    /** x [rows, in] -> a new [rows, out]. */
    float[] apply(float[] x, int rows) {
        float[] out = new float[rows * outputs()];
        MatMul.multiply(x, rows, weight, bias, out);
        return out;
    }
}
