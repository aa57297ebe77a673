package gemel.engine.model;

import gemel.engine.config.HfConfig;
import gemel.engine.io.TensorView;
import gemel.engine.io.WeightSource;
import gemel.engine.kernel.LayerNorm;
import gemel.engine.kernel.RmsNorm;
import java.util.Arrays;

/** Reads a decoder's tensors by name, checking each shape against what the config implies. */
record Weights(WeightSource source, HfConfig config) {

    boolean has(String name) { return source.contains(name); }

    TensorView matrix(String name, int rows, int cols) {
        return source.tensor(name).requireShape(rows, cols);
    }

    float[] vector(String name, int n) {
        return source.tensor(name).requireShape(n).toFloats();
    }

    /** {@code name + ".weight"} [out, in], and {@code name + ".bias"} [out] when {@code withBias}. */
    Linear linear(String name, int out, int in, boolean withBias) {
        return new Linear(matrix(name + ".weight", out, in), withBias ? vector(name + ".bias", out) : null);
    }

    LayerNorm layerNorm(String name, int width, float eps, boolean affine) {
        if (!affine) return new LayerNorm(ones(width), null, eps);
        return new LayerNorm(vector(name + ".weight", width), vector(name + ".bias", width), eps);
    }

    RmsNorm rmsNorm(String name, int width, float eps) {
        return new RmsNorm(vector(name + ".weight", width), eps);
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }
}
