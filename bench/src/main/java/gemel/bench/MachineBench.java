package gemel.bench;

import gemel.engine.io.TensorView;
import gemel.engine.kernel.MatMul;
import gemel.engine.kernel.Parallel;
import gemel.engine.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;

/**
 * The machine's bounds as gemel sees them: memory read bandwidth over a multi-GB buffer, and the
 * throughput of the engine's matrix product at the decoder shapes the PyTorch peer times with sgemm,
 * with fp32 and with bf16 weights.
 */
final class MachineBench {
    private static final int STREAM_PASSES = 5;
    private static final int MATMUL_REPEATS = 3;
    // the JIT has compiled the prompt product's kernels after about 2 s of calls of the first shape ([512, 768] x [768, 768]):
    // after 1 s, the first fp32 row read 18-32 GFLOP/s, against 200-235 once compiled
    private static final long WARM_NANOS = 3_000_000_000L;
    private static final byte FILL = 0x3f;   // every word of the stream buffer reads 0x3f3f3f3f
    private static final Path HEAP = Path.of("(random weights in memory)");

    private MachineBench() {}

    static void run(BenchPlan plan, ResultLog log) {
        log.record("kind", "setup", "jdk", Runtime.version().toString(), "cores", Parallel.cores(),
                "vector_bits", FloatVector.SPECIES_PREFERRED.vectorBitSize());
        stream(plan.streamBytes(), log);
        for (int[] shape : plan.sgemmShapes()) {
            for (DType dtype : new DType[] {DType.F32, DType.BF16}) matmul(shape[0], shape[1], shape[2], dtype, log);
        }
    }

    private static void stream(long bytes, ResultLog log) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment data = arena.allocate(bytes, 64);
            data.fill(FILL);
            int expected = (int) ((bytes / 4) * 0x3f3f3f3fL); // the words' sum, wrapped as the read wraps it
            double best = Double.MAX_VALUE;
            for (int pass = 0; pass <= STREAM_PASSES; pass++) { // pass 0 warms up
                long t0 = System.nanoTime();
                int sum = StreamingRead.sum(data);
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (sum != expected) throw new IllegalStateException("streaming read summed " + sum + ", expected " + expected);
                if (pass > 0) best = Math.min(best, seconds);
            }
            log.record("kind", "stream", "bytes", bytes, "seconds", best, "gb_per_s", bytes / best / 1e9);
        }
    }

    private static void matmul(int tokens, int in, int outDim, DType dtype, ResultLog log) {
        SplittableRandom random = new SplittableRandom(tokens * 31L + in * 7L + outDim);
        float[] x = new float[tokens * in];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        TensorView w = new TensorView("w", HEAP, dtype, new long[] {outDim, in}, randomWeight(random, (long) outDim * in, dtype));
        float[] out = new float[tokens * outDim];
        // untimed calls for a while first: the first shape would otherwise be timed while its kernel compiles
        for (long until = System.nanoTime() + WARM_NANOS; System.nanoTime() < until; ) MatMul.multiply(x, tokens, w, null, out);
        double best = Double.MAX_VALUE;
        for (int r = 0; r < MATMUL_REPEATS; r++) {
            long t0 = System.nanoTime();
            MatMul.multiply(x, tokens, w, null, out);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        log.record("kind", "matmul", "weights", dtype.name(), "shape", new int[] {tokens, in, outDim}, "seconds", best,
                "gflops", 2.0 * tokens * in * outDim / best / 1e9);
    }

    /** Off the heap, as a mapped checkpoint's weights are (the kernels read heap segments by a slower path). */
    private static MemorySegment randomWeight(SplittableRandom random, long count, DType dtype) {
        int n = Math.toIntExact(count);
        if (dtype == DType.F32) {
            float[] w = new float[n];
            for (int i = 0; i < n; i++) w[i] = (float) random.nextGaussian();
            return offHeap(MemorySegment.ofArray(w));
        }
        if (dtype != DType.BF16) throw new IllegalArgumentException("the matmul bench stores weights as F32 or BF16, not " + dtype);
        short[] w = new short[n];
        for (int i = 0; i < n; i++) w[i] = (short) (Float.floatToRawIntBits((float) random.nextGaussian()) >>> 16);
        return offHeap(MemorySegment.ofArray(w));
    }

    private static MemorySegment offHeap(MemorySegment heap) { return Arena.ofAuto().allocate(heap.byteSize(), 64).copyFrom(heap); }
}
