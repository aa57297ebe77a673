package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LinearProductsTest {

    /**
     * Vector kernels against their scalar twins (the same fused multiply-add chains, so bit for bit) and
     * against double-precision sums over the stored values.
     */
    private static void compare(Random random, DType dtype, int rows, int in, int out) {
        String what = dtype + " rows " + rows + " in " + in + " out " + out;
        TensorView w = TestTensors.of("w", dtype, TestTensors.gaussian(random, out * in, 0.5), out, in);
        float tolerance = 1e-6f * (float) Math.sqrt(Math.max(in, out)) * 8;

        float[] x = TestTensors.gaussian(random, rows * in, 1), bias = TestTensors.gaussian(random, out, 1);
        float[] y = new float[rows * out], ySlow = new float[rows * out];
        LinearProducts.forward(x, rows, w, bias, y);
        LinearProducts.forwardScalar(x, rows, w, bias, ySlow);
        assertArrayEquals(ySlow, y, what + ": forward, vector and scalar");
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) {
                double exact = bias[o];
                for (int i = 0; i < in; i++) exact += (double) x[r * in + i] * w.get((long) o * in + i);
                assertEquals(exact, y[r * out + o], tolerance, what + " y[" + r + ", " + o + "]");
            }

        float[] dy = TestTensors.gaussian(random, rows * out, 1), start = TestTensors.gaussian(random, rows * in, 1);
        float[] dx = start.clone(), dxSlow = start.clone();
        LinearProducts.addInputGradient(dy, rows, w, dx);
        LinearProducts.addInputGradientScalar(dy, rows, w, dxSlow);
        assertArrayEquals(dxSlow, dx, what + ": input gradient, vector and scalar");
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < in; i++) {
                double exact = start[r * in + i];
                for (int o = 0; o < out; o++) exact += (double) dy[r * out + o] * w.get((long) o * in + i);
                assertEquals(exact, dx[r * in + i], tolerance, what + " dx[" + r + ", " + i + "]");
            }
    }

    @Test
    void vectorKernelsMatchScalarTwinsAndExactSumsOnOddShapes() {
        Random random = new Random(11);
        for (DType dtype : DType.values())
            for (int trial = 0; trial < 30; trial++) compare(random, dtype, 1 + random.nextInt(11), 1 + random.nextInt(80), 1 + random.nextInt(37));
    }

    @Test
    void splitOverCoresIntoColumnAndRowBlocks() {
        Random random = new Random(12);
        for (DType dtype : DType.values()) compare(random, dtype, 203, 70, 133); // several row blocks, a short last column block
        compare(random, DType.F16, 3, 301, 2050);   // few rows, many outputs (a head)
        compare(random, DType.BF16, 130, 33, 9);    // rows not a multiple of four in every block
    }

    /** Backpropagating a one-hot dy through W gives back the stored row exactly, in every dtype. */
    @Test
    void oneHotGradientReadsTheStoredRow() {
        int out = 9, in = 37;
        for (DType dtype : DType.values()) {
            TensorView w = TestTensors.of("w", dtype, TestTensors.gaussian(new Random(3), out * in, 1), out, in);
            float[] dy = new float[5 * out], dx = new float[5 * in];
            for (int r = 0; r < 5; r++) dy[r * out + (2 * r) % out] = 1;
            LinearProducts.addInputGradient(dy, 5, w, dx);
            for (int r = 0; r < 5; r++)
                for (int i = 0; i < in; i++) assertEquals(w.get((long) ((2 * r) % out) * in + i), dx[r * in + i], 0f, dtype + " row " + r);
        }
    }

    @Test
    void shapeMismatchesAreErrorsNamingTheWeight() {
        TensorView w = TestTensors.of("layers.0.fc1.weight", DType.F32, new float[6], 2, 3);
        var e = assertThrows(IllegalArgumentException.class, () -> LinearProducts.addInputGradient(new float[3], 2, w, new float[6]));
        assertTrue(e.getMessage().contains("fc1"), e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> LinearProducts.addInputGradient(new float[4], 2, w, new float[5]));
        assertTrue(f.getMessage().contains("input gradient"), f.getMessage());
        var g = assertThrows(IllegalArgumentException.class, () -> LinearProducts.forward(new float[6], 2, w, new float[3], new float[4]));
        assertTrue(g.getMessage().contains("bias"), g.getMessage());
    }
}
