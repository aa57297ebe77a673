package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MatMulTest {

    private static void compare(Random random, DType dtype, int tokens, int in, int outDim, boolean withBias) {
        float[] x = TestTensors.gaussian(random, tokens * in, 1);
        TensorView w = TestTensors.of("w", dtype, TestTensors.gaussian(random, outDim * in, 0.5), outDim, in);
        float[] bias = withBias ? TestTensors.gaussian(random, outDim, 1) : null;
        float[] fast = new float[tokens * outDim], slow = new float[tokens * outDim];
        Arrays.fill(fast, Float.NaN); // a product overwrites its output: what was there before must not show
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

    /** Prompts take the packed-panel path: odd row counts leave padded panels, odd token counts leftover tiles. */
    @Test
    void panelPathMatchesScalarTwinOnOddShapes() {
        Random random = new Random(3);
        for (DType dtype : DType.values()) {
            for (int trial = 0; trial < 15; trial++) {
                compare(random, dtype, MatMul.PANEL_TOKENS + random.nextInt(20), 1 + random.nextInt(90), 1 + random.nextInt(70), trial % 2 == 0);
            }
        }
    }

    /**
     * Wide enough for tasks of three panels or more (the 8 x 3 tile), with a last block whose last panel is
     * partial, leftover tokens, and inputs in two and three chunks (the first starts from the bias, the
     * others from the sums so far).
     */
    @Test
    void panelPathMatchesScalarTwinWithThreePanelTiles() {
        Random random = new Random(4);
        for (DType dtype : DType.values()) compare(random, dtype, MatMul.PANEL_TOKENS + 5, 37, 8 * 64 + 53, true);
        compare(random, DType.BF16, MatMul.PANEL_TOKENS, 2100, 300, false);
        compare(random, DType.F16, MatMul.PANEL_TOKENS + 3, 2100, 8 * 64 + 53, true); // three-panel tiles adding to the first chunk's sums
        compare(random, DType.F32, MatMul.PANEL_TOKENS + 9, 4200, 75, true); // three chunks, a bias, leftover tokens and rows
        for (DType dtype : DType.values()) compare(random, dtype, MatMul.PANEL_TOKENS + 1, 300, 70, true); // a chunk packed in a whole piece and a part
    }

    @Test
    void vectorKernelMatchesScalarTwinWhenSplitOverCores() {
        Random random = new Random(2);
        for (DType dtype : DType.values()) compare(random, dtype, 37, 301, 133, true);
        compare(random, DType.F16, 2, 4099, 65, false); // long rows with a scalar tail
        for (DType dtype : DType.values()) compare(random, dtype, 6, 2047, 21, true); // a five-token pass and a single token, and a scalar tail
        compare(random, DType.BF16, 70, 2050, 9, true);  // several token blocks per chunk
    }

    /**
     * Each token's row of a product of several is the product of that token alone, bit for bit: the decode path
     * runs passes of five tokens (three or four padded with repeats of the last), then one by one, and every
     * token's sums are added in the same order in each. Counts cover full, padded and single passes.
     */
    @Test
    void tokensOfAFewTokenProductEachEqualTheirProductAlone() {
        Random random = new Random(5);
        int in = 2 * 64 + 7, outDim = 45;
        for (DType dtype : DType.values()) {
            TensorView w = TestTensors.of("w", dtype, TestTensors.gaussian(random, outDim * in, 0.5), outDim, in);
            float[] bias = TestTensors.gaussian(random, outDim, 1);
            for (int tokens = 1; tokens <= 13; tokens++) {
                float[] x = TestTensors.gaussian(random, tokens * in, 1), out = new float[tokens * outDim];
                MatMul.multiply(x, tokens, w, bias, out);
                for (int t = 0; t < tokens; t++) {
                    float[] alone = new float[outDim];
                    MatMul.multiply(Arrays.copyOfRange(x, t * in, (t + 1) * in), 1, w, bias, alone);
                    assertArrayEquals(alone, Arrays.copyOfRange(out, t * outDim, (t + 1) * outDim), dtype + " token " + t + " of " + tokens);
                }
            }
        }
    }

    /**
     * Selecting one column with a one-hot input returns each stored weight exactly, in both the decode and the tiled path:
     * with infinities and NaNs among them, and with only finite extremes (largest halves, subnormals), which F16 decode
     * products widen in registers.
     */
    @Test
    void storedValuesComeThroughExactlyInfinitiesAndNansIncluded() {
        float[] specials = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 65504f, -65504f, 5.9604645e-8f, -6.1035156e-5f,
                0f, 1.5f, 1f, 3.140625f, -0.333251953125f, 1e-7f, 2048f, 0.5f, -7f, -2.2649765e-6f, 6.0975552e-5f};
        oneHotColumnsComeThroughExactly(specials);
        oneHotColumnsComeThroughExactly(Arrays.copyOfRange(specials, 3, specials.length));
    }

    private static void oneHotColumnsComeThroughExactly(float[] specials) {
        int rows = specials.length, in = 35, column = 19;
        for (DType dtype : DType.values()) {
            float[] values = TestTensors.gaussian(new Random(9), rows * in, 1);
            for (int r = 0; r < rows; r++) values[r * in + column] = specials[r];
            TensorView w = TestTensors.of("w", dtype, values, rows, in);
            for (int tokens : new int[] {1, 5, 12, MatMul.PANEL_TOKENS + 3}) {
                float[] x = new float[tokens * in], out = new float[tokens * rows];
                for (int t = 0; t < tokens; t++) x[t * in + column] = 1;
                MatMul.multiply(x, tokens, w, null, out);
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < rows; r++)
                        assertEquals(w.get((long) r * in + column), out[t * rows + r], dtype + " tokens " + tokens + " row " + r);
                }
            }
        }
    }

    /**
     * The F16 decode kernels take back an excess proportional to the input (see StreamingProduct): a product of an input
     * of 2^16 or more in magnitude takes the panels, and comes out as the scalar twin's; infinities and NaNs in the input
     * come out as the twin's on either path.
     */
    @Test
    void halfProductsOfLargeOrInfiniteInputsMatchTheScalarTwin() {
        Random random = new Random(6);
        int in = 2 * 64 + 7, outDim = 21;
        TensorView w = TestTensors.of("w", DType.F16, TestTensors.gaussian(random, outDim * in, 0.5), outDim, in);
        float[] specials = {0x1p16f, -70000f, 3e38f, 65504f, Float.POSITIVE_INFINITY, Float.NaN};
        for (float special : specials) {
            for (int tokens : new int[] {1, 5, 7}) {
                float[] x = TestTensors.gaussian(random, tokens * in, 1);
                x[(tokens - 1) * in + 37] = special;
                float[] fast = new float[tokens * outDim], slow = new float[tokens * outDim];
                MatMul.multiply(x, tokens, w, null, fast);
                MatMul.multiplyScalar(x, tokens, w, null, slow);
                for (int i = 0; i < slow.length; i++) {
                    String what = "input " + special + ", tokens " + tokens + ", output " + i + ": " + fast[i] + " against " + slow[i];
                    // the last token's sums hold the special input's product: their rounding grows with it
                    double scale = i / outDim == tokens - 1 && Float.isFinite(special) ? Math.max(1, Math.abs(special)) : 1;
                    if (Float.isFinite(slow[i])) assertTrue(Math.abs(fast[i] - slow[i]) <= 1e-4 * scale, what);
                    else assertEquals(slow[i], fast[i], what); // the same infinity, or NaN
                }
            }
        }
    }

    /** values with every {@code every}-th one zeroed. */
    private static float[] pruned(float[] values, int every) {
        for (int i = 0; i < values.length; i += every) values[i] = 0;
        return values;
    }

    /**
     * F16 weights with zeros and subnormals, which the decode kernels read as normal halves and correct row by row: a row
     * of zeros (OPT's padding token), a row of subnormals, scattered ones below the streaming limit, and a weight pruned
     * past it (the panels). Each gives the scalar twin's products, for decode steps, beams and prompts.
     */
    @Test
    void halfWeightsWithZerosAndSubnormalsMatchTheScalarTwin() {
        Random random = new Random(12);
        int in = 2 * 64 + 7, outDim = 200;
        float[] scattered = TestTensors.gaussian(random, outDim * in, 0.5);
        for (int i = 0; i < scattered.length; i += 97) scattered[i] = i % 2 == 0 ? -0f : 0x1p-15f;
        Arrays.fill(scattered, 3 * in, 4 * in, 0);
        for (int i = 5 * in; i < 6 * in; i++) scattered[i] = (i % 3 - 1) * 0x1p-24f * (1 + i % 1023);
        for (float[] values : new float[][] {scattered, pruned(TestTensors.gaussian(random, outDim * in, 0.5), 3)}) {
            TensorView w = TestTensors.of("w", DType.F16, values, outDim, in);
            assertEquals(values == scattered, ZeroExponentHalves.of(w).streams());
            for (int tokens : new int[] {1, 2, 3, 5, 7, 12, MatMul.PANEL_TOKENS + 1}) {
                float[] x = TestTensors.gaussian(random, tokens * in, 1), fast = new float[tokens * outDim], slow = new float[tokens * outDim];
                MatMul.multiply(x, tokens, w, null, fast);
                MatMul.multiplyScalar(x, tokens, w, null, slow);
                for (int t = 0; t < tokens && values == scattered; t++) assertEquals(0, fast[t * outDim + 3], 1e-9, "the row of zeros, token " + t);
                float tolerance = 2e-6f * (float) Math.sqrt(in) * 4;
                assertTrue(TestTensors.maxAbsDiff(fast, slow, fast.length) <= tolerance, tokens + " tokens: differs by " + TestTensors.maxAbsDiff(fast, slow, fast.length));
            }
        }
    }

    /**
     * Several weights multiplied in one call give exactly what each gives alone: weights of different dtypes and heights
     * (blocks of one weight must not spill into the next), an F16 weight holding an infinity and one pruned to half zeros
     * (they take the panels while the others stream), F16 inputs too large to stream, and prompts. Weights of different input widths are an error
     * naming both.
     */
    @Test
    void weightsMultipliedTogetherEqualEachAlone() {
        Random random = new Random(7);
        int in = 3 * 64 + 5;
        float[] infinite = TestTensors.gaussian(random, 9 * in, 0.5);
        infinite[4 * in + 3] = Float.POSITIVE_INFINITY;
        TensorView[] w = {
                TestTensors.of("q", DType.BF16, TestTensors.gaussian(random, 130 * in, 0.5), 130, in),
                TestTensors.of("k", DType.F16, TestTensors.gaussian(random, 33 * in, 0.5), 33, in),
                TestTensors.of("v", DType.F32, TestTensors.gaussian(random, 3 * in, 0.5), 3, in),
                TestTensors.of("inf", DType.F16, infinite, 9, in),
                TestTensors.of("k2", DType.F16, TestTensors.gaussian(random, 70 * in, 0.5), 70, in),
                TestTensors.of("pruned", DType.F16, pruned(TestTensors.gaussian(random, 20 * in, 0.5), 2), 20, in)};
        float[][] bias = {TestTensors.gaussian(random, 130, 1), null, TestTensors.gaussian(random, 3, 1), null, TestTensors.gaussian(random, 70, 1),
                null};
        for (int tokens : new int[] {1, 2, 5, MatMul.PANEL_TOKENS + 1}) {
            for (boolean large : new boolean[] {false, true}) {
                float[] x = TestTensors.gaussian(random, tokens * in, 1);
                if (large) x[in - 1] = 0x1p17f;
                float[][] together = new float[w.length][];
                for (int i = 0; i < w.length; i++) {
                    together[i] = new float[tokens * w[i].dim(0)];
                    Arrays.fill(together[i], Float.NaN);
                }
                MatMul.multiplyEach(x, tokens, w, bias, together);
                for (int i = 0; i < w.length; i++) {
                    float[] alone = new float[tokens * w[i].dim(0)];
                    MatMul.multiply(x, tokens, w[i], bias[i], alone);
                    assertArrayEquals(alone, together[i], w[i] + ", tokens " + tokens + (large ? ", an input of 2^17" : ""));
                }
            }
        }
        TensorView narrow = TestTensors.of("narrow", DType.F32, new float[3 * 4], 3, 4);
        var e = assertThrows(IllegalArgumentException.class, () -> MatMul.multiplyEach(new float[in], 1, new TensorView[] {w[0], narrow},
                new float[2][], new float[][] {new float[130], new float[3]}));
        assertTrue(e.getMessage().contains("narrow") && e.getMessage().contains("q"), e.getMessage());
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
