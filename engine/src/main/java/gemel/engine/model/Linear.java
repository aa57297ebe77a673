package gemel.engine.model;

import gemel.engine.io.TensorView;
import gemel.engine.kernel.MatMul;

/** A linear layer as stored: weight [out, in] in its stored dtype, bias [out] in fp32 or null. */
public record Linear(TensorView weight, float[] bias) {

    public int inputs() { return weight.dim(1); }

    public int outputs() { return weight.dim(0); }

    /** x [rows, in] -> a new [rows, out]. */
    float[] apply(float[] x, int rows) { return applyEach(x, rows, this)[0]; }

    /** Several layers of the same input width applied to x [rows, in], as one call ({@link MatMul#multiplyEach}): a new [rows, out] each. */
    static float[][] applyEach(float[] x, int rows, Linear... layers) {
        TensorView[] weights = new TensorView[layers.length];
        float[][] biases = new float[layers.length][], outs = new float[layers.length][];
        for (int i = 0; i < layers.length; i++) {
            weights[i] = layers[i].weight;
            biases[i] = layers[i].bias;
            outs[i] = new float[rows * layers[i].outputs()];
        }
        MatMul.multiplyEach(x, rows, weights, biases, outs);
        return outs;
    }
}
