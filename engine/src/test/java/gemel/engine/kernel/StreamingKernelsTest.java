package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamingKernelsTest {

    /**
     * Decode products of every dtype, all hot in one JVM (two models of different dtypes in one process), of one token and
     * of five (a decode step, GEMEL's beams): once compiled, a product allocates only its tasks' few small arrays.
     * Compiled for all dtypes at once, the kernels boxed their weight vectors on the heap,
     * about a hundred bytes for every sixteen weights, and ran several times slower.
     */
    @Test
    void decodeProductsOfEveryDtypeInOneJvmKeepTheirVectorsInRegisters() {
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random random = new Random(5);
        int in = 1024, rows = 256;
        List<TensorView> weights = new ArrayList<>();
        for (DType dtype : DType.values()) weights.add(TestTensors.of("w", dtype, TestTensors.gaussian(random, rows * in, 0.1), rows, in));
        for (int tokens : new int[] {1, 5}) {
            float[] x = TestTensors.gaussian(random, tokens * in, 1), out = new float[tokens * rows];
            for (int round = 0; round < 500; round++) { // the JIT compiles the kernels having seen every dtype
                for (TensorView w : weights) MatMul.multiply(x, tokens, w, null, out);
            }
            for (TensorView w : weights) {
                int products = 20;
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int r = 0; r < products; r++) MatMul.multiply(x, tokens, w, null, out);
                long perProduct = (threads.getCurrentThreadAllocatedBytes() - before) / products;
                // this thread takes part in the product: boxed vectors would come to megabytes, the input and the arrays to tens of kilobytes
                assertTrue(perProduct < rows * in / 4, w.dtype() + ", " + tokens + " tokens: " + perProduct + " bytes allocated per product");
            }
        }
    }

    /**
     * Decode products of one token and of five (GEMEL's beams) of F16 weights holding zeros and subnormal halves run about
     * as fast as of the same values in BF16, which holds them as normal numbers. Widened to 2^-112 times their value, as
     * the kernels once did, subnormal halves were fp32 subnormals, and Intel cores take a microcode assist for every
     * multiply-add with one. With one value in 100 a subnormal half (real weights hold about one in a thousand; more
     * here, so that the test tells), F16 products then took 4.3-5.6 times as long as BF16's on a Xeon, and 3.0 for five
     * tokens with AVX2 alone; read as normal halves ({@link StoredFloats#halfAsNormal}), 1.3-1.9 (an extra integer
     * operation per vector, and the excess taken back). Processors without the assist pass either way. Since BF16's
     * single-token loop became a counted one and F16's did not (StreamingProduct's step), BF16 runs faster from the caches
     * and one-token F16 products take about 2.4-2.6 times as long on that Xeon: the limit is 3, with up to five attempts
     * (the two dtypes' order alternating), so that a noisy spell of the shared cores does not fail it.
     */
    @Test
    void halfProductsKeepPaceWithBfloat16DespiteSubnormals() {
        Random random = new Random(8);
        int in = 1024, rows = 256;
        float[] values = TestTensors.gaussian(random, rows * in, 0.05);
        for (int i = 0; i < values.length; i += 100) values[i] = (random.nextBoolean() ? 1 : -1) * 0x1p-20f * (1 + random.nextInt(15)); // one in 400
        TensorView half = TestTensors.of("half", DType.F16, values, rows, in), bfloat = TestTensors.of("bfloat", DType.BF16, values, rows, in);
        for (int tokens : new int[] {1, 5}) {
            float[] x = TestTensors.gaussian(random, tokens * in, 1), out = new float[tokens * rows];
            List<Double> ratios = new ArrayList<>();
            for (int attempt = 0; attempt < 5 && (ratios.isEmpty() || ratios.getLast() >= 3); attempt++) {
                ratios.add(halfOverBfloat16(x, tokens, half, bfloat, out, attempt % 2 == 1));
            }
            assertTrue(ratios.getLast() < 3, tokens + " tokens: F16 took " + ratios + " times as long as BF16 (medians of 300 products each, per attempt)");
        }
    }

    /** The median time of 300 products of {@code half} over that of {@code bfloat}, each after 300 untimed ones. */
    private static double halfOverBfloat16(float[] x, int tokens, TensorView half, TensorView bfloat, float[] out, boolean bfloatFirst) {
        int rounds = 300;
        long[] halfNanos = new long[rounds], bfloatNanos = new long[rounds];
        for (int round = -rounds; round < rounds; round++) { // the first half warms up the JIT
            TensorView first = bfloatFirst ? bfloat : half, second = bfloatFirst ? half : bfloat;
            long t0 = System.nanoTime();
            MatMul.multiply(x, tokens, first, null, out);
            long t1 = System.nanoTime();
            MatMul.multiply(x, tokens, second, null, out);
            long t2 = System.nanoTime();
            if (round >= 0) {
                (bfloatFirst ? bfloatNanos : halfNanos)[round] = t1 - t0;
                (bfloatFirst ? halfNanos : bfloatNanos)[round] = t2 - t1;
            }
        }
        Arrays.sort(halfNanos);
        Arrays.sort(bfloatNanos);
        return (double) halfNanos[rounds / 2] / bfloatNanos[rounds / 2];
    }
}
