package gemel.engine.model;

import gemel.engine.io.TensorView;
import gemel.engine.kernel.MatMul;

/** A linear layer as stored: weight [out, in] in its stored dtype, bias [out] in fp32 or null. */
public record Linear(TensorView weight, float[] bias) {

    public int inputs() { return weight.dim(1); }

    public int outputs() { return weight.dim(0); }

    /** x [rows, in] -> a new [rows, out]. */
    float[] apply(float[] x, int rows) { return apply(x, rows, new float[rows * outputs()]); }

    /** x [rows, in] -> out [rows, out], every element written; returns out. */
    float[] apply(float[] x, int rows, float[] out) {
        applyEach(x, rows, new float[][] {out}, this);
        return out;
    }

    /** Several layers of the same input width applied to x [rows, in], as one call ({@link MatMul#multiplyEach}): outs[i] = [rows, out of layer i], every element written. */
    static void applyEach(float[] x, int rows, float[][] outs, Linear... layers) {
        TensorView[] weights = new TensorView[layers.length];
        float[][] biases = new float[layers.length][];
        for (int i = 0; i < layers.length; i++) {
            weights[i] = layers[i].weight;
            biases[i] = layers[i].bias;
        }
        MatMul.multiplyEach(x, rows, weights, biases, outs);
    }
}
