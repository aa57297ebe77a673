package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MatMulTest {

    private static void compare(Random random, DType dtype, int tokens, int in, int outDim, boolean withBias) {
        float[] x = TestTensors.gaussian(random, tokens * in, 1);
        TensorView w = TestTensors.of("w", dtype, TestTensors.gaussian(random, outDim * in, 0.5), outDim, in);
        float[] bias = withBias ? TestTensors.gaussian(random, outDim, 1) : null;
        float[] fast = new float[tokens * outDim], slow = new float[tokens * outDim];
        MatMul.multiply(x, tokens, w, bias, fast);
        MatMul.multiplyScalar(x, tokens, w, bias, slow);
        // the two differ only in summation order: fp32 rounding grows with sqrt(in)
        float tolerance = 2e-6f * (float) Math.sqrt(in) * 4;
        String what = dtype + " tokens " + tokens + " in " + in + " out " + outDim + (withBias ? " +bias" : "");
        assertTrue(TestTensors.maxAbsDiff(fast, slow, fast.length) <= tolerance, what + ": differs by " + TestTensors.maxAbsDiff(fast, slow, fast.length));
    }

    @Test
    void vectorKernelMatchesScalarTwinOnOddShapes() {
        Random random = new Random(1);
        for (DType dtype : DType.values()) {
            for (int trial = 0; trial < 40; trial++) {
                compare(random, dtype, 1 + random.nextInt(11), 1 + random.nextInt(70), 1 + random.nextInt(37), trial % 2 == 0);
            }
        }
    }

    @Test
    void vectorKernelMatchesScalarTwinWhenSplitOverCores() {
        Random random = new Random(2);
        for (DType dtype : DType.values()) compare(random, dtype, 37, 301, 133, true);
        compare(random, DType.F16, 2, 4099, 65, false); // inputs in several chunks, the last one short
        compare(random, DType.BF16, 70, 2050, 9, true);  // several token blocks per chunk
    }

    @Test
    void scalarTwinIsTheDefinition() {
        // x = [[1, 2], [3, -1]], w = [[1, 0], [2, 1], [-1, 4]], bias = [0.5, 0, -1]
        TensorView w = TestTensors.of("w", DType.F32, new float[] {1, 0, 2, 1, -1, 4}, 3, 2);
        float[] out = new float[6];
        MatMul.multiplyScalar(new float[] {1, 2, 3, -1}, 2, w, new float[] {0.5f, 0, -1}, out);
        float[] expected = {1.5f, 4, 6, 3.5f, 5, -8};
        for (int i = 0; i < 6; i++) assertEquals(expected[i], out[i]);
        MatMul.multiply(new float[] {1, 2, 3, -1}, 2, w, new float[] {0.5f, 0, -1}, out);
        for (int i = 0; i < 6; i++) assertEquals(expected[i], out[i]);
    }

    @Test
    void mismatchedSizesAreErrorsNamingTheWeight() {
        TensorView w = TestTensors.of("layer.w", DType.F32, new float[6], 3, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> MatMul.multiply(new float[3], 2, w, null, new float[6]));
        assertTrue(e.getMessage().contains("layer.w"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MatMul.multiply(new float[4], 2, w, new float[2], new float[6]));
    }
}
