package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import com.sun.management.OperatingSystemMXBean;
import gemel.engine.tensor.DType;
import java.lang.management.ManagementFactory;
import java.util.Random;

/**
 * Times {@link MatMul#multiply} (the fastest of many calls) at the layer shapes of the decoders gemel
 * runs, for comparing kernels before and after a change (not a test: timings on a shared machine
 * vary). Decode steps (1 and 5 tokens) report how fast the weight streams (GB/s), prompts (64 and
 * 256 tokens) the multiply-add rate (GFLOP/s). With -XX:ActiveProcessorCount=1 the rate per CPU-second is
 * that of one core, which a loaded machine disturbs much less than the wall clock.
 * Run: java --add-modules jdk.incubator.vector -cp engine/target/classes:engine/target/test-classes
 * gemel.engine.kernel.MatMulTiming [seconds per case, default 1] [part of the shape names to run]
 */
public final class MatMulTiming {
    private static final OperatingSystemMXBean OS = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private MatMulTiming() {}

    private record Shape(String name, int outDim, int in) {}

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1;
        String only = args.length > 1 ? args[1] : "";
        Shape[] shapes = {
                new Shape("opt-125m fc1", 3072, 768), new Shape("opt-1.3b q", 2048, 2048), new Shape("opt-1.3b fc2", 2048, 8192),
                new Shape("llama-3.2-1b up", 8192, 2048), new Shape("head slice", 16384, 2048)};
        Random random = new Random(1);
        System.out.printf("%-16s %-5s %6s %10s %10s%n", "shape", "dtype", "tokens", "ms/call", "rate");
        for (Shape s : shapes) {
            if (!s.name.contains(only)) continue;
            for (DType dtype : DType.values()) {
                TensorView w = TestTensors.of("w", dtype, TestTensors.gaussian(random, s.outDim * s.in, 0.1), s.outDim, s.in);
                for (int tokens : new int[] {1, 5, 64, 256}) {
                    float[] x = TestTensors.gaussian(random, tokens * s.in, 1), out = new float[tokens * s.outDim];
                    MatMul.multiply(x, tokens, w, null, out); // warm-up
                    // the fastest call of many: other people's work on a shared machine only ever adds time;
                    // and the work per second of CPU this process used, which waiting for a core does not inflate
                    long start = System.nanoTime(), cpuStart = OS.getProcessCpuTime(), best = Long.MAX_VALUE;
                    int calls = 0;
                    for (; System.nanoTime() - start < seconds * 1e9 || calls < 3; calls++) {
                        long t = System.nanoTime();
                        MatMul.multiply(x, tokens, w, null, out);
                        best = Math.min(best, System.nanoTime() - t);
                    }
                    double cpuPerCall = (OS.getProcessCpuTime() - cpuStart) / 1e9 / calls;
                    double amount = tokens <= 8 ? w.data().byteSize() / 1e9 : 2.0 * tokens * s.in * s.outDim / 1e9;
                    String unit = tokens <= 8 ? "GB/s" : "GFLOP/s";
                    String rate = String.format("%7.1f %-7s %7.1f per CPU-second", amount / (best / 1e9), unit, amount / cpuPerCall);
                    System.out.printf("%-16s %-5s %6d %10.3f   %s%n", s.name, dtype, tokens, best / 1e6, rate);
                }
            }
        }
    }
}
