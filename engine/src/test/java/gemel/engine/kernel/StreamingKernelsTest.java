package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamingKernelsTest {

    /**
     * Decode products of every dtype, all hot in one JVM (two models of different dtypes in one process), of one token and
     * of five (a decode step, GEMEL's beams): once compiled, a product allocates only its tasks' few small arrays (and
     * for F16 its scaled input). Compiled for all dtypes at once, the kernels boxed their weight vectors on the heap,
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
}
