package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.util.Random;

/**
 * Times {@link MatMul#multiply} (the fastest of many calls) at the layer shapes of the decoders gemel
 * runs, for comparing kernels before and after a change (not a test: timings on a shared machine
 * vary). Decode steps (1 and 5 tokens) report how fast the weight streams (GB/s), prompts (256
 * tokens) the multiply-add rate (GFLOP/s).
 * Run: java --add-modules jdk.incubator.vector -cp engine/target/classes:engine/target/test-classes
 * gemel.engine.kernel.MatMulTiming [seconds per case, default 1]
 */
public final class MatMulTiming {
    private MatMulTiming() {}

    private record Shape(String name, int outDim, int in) {}

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1;
        Shape[] shapes = {
                new Shape("opt-125m fc1", 3072, 768), new Shape("opt-1.3b q", 2048, 2048), new Shape("opt-1.3b fc2", 2048, 8192),
                new Shape("llama-3.2-1b up", 8192, 2048), new Shape("head slice", 16384, 2048)};
        Random random = new Random(1);
        System.out.printf("%-16s %-5s %6s %10s %10s%n", "shape", "dtype", "tokens", "ms/call", "rate");
        for (Shape s : shapes) {
            for (DType dtype : DType.values()) {
                TensorView w = TestTensors.of("w", dtype, TestTensors.gaussian(random, s.outDim * s.in, 0.1), s.outDim, s.in);
                for (int tokens : new int[] {1, 5, 256}) {
                    float[] x = TestTensors.gaussian(random, tokens * s.in, 1), out = new float[tokens * s.outDim];
                    MatMul.multiply(x, tokens, w, null, out); // warm-up
                    // the fastest call of many: other people's work on a shared machine only ever adds time
                    long start = System.nanoTime(), best = Long.MAX_VALUE;
                    for (int calls = 0; System.nanoTime() - start < seconds * 1e9 || calls < 3; calls++) {
                        long t = System.nanoTime();
                        MatMul.multiply(x, tokens, w, null, out);
                        best = Math.min(best, System.nanoTime() - t);
                    }
                    double perCall = best / 1e9;
                    double amount = tokens <= 8 ? w.data().byteSize() / 1e9 : 2.0 * tokens * s.in * s.outDim / 1e9;
                    String unit = tokens <= 8 ? "GB/s" : "GFLOP/s";
                    String rate = String.format("%.1f %s", amount / perCall, unit);
                    System.out.printf("%-16s %-5s %6d %10.3f   %s%n", s.name, dtype, tokens, perCall * 1e3, rate);
                }
            }
        }
    }
}
