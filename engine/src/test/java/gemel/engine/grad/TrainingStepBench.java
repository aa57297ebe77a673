package gemel.engine.grad;

import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.NpyFile;
import gemel.engine.io.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Training steps (loss and d loss / d inputs_embeds) on the folder tools/bench/training_step.py makes, in a fresh JVM so
 * that the peak resident memory (VmHWM) is this run's:
 * {@code java -cp <app jar>:engine/target/test-classes gemel.engine.grad.TrainingStepBench DIR --recompute|--keep [--steps N]}.
 * The same step N times (default 2): the first pays for the JIT compiling the kernels, as a training run's first step does,
 * the later ones show the steps that follow. Compares the last step's gradient with PyTorch's (DIR/grad_torch.npy) when
 * present.
 */
public final class TrainingStepBench {
    private TrainingStepBench() {}

    public static void main(String[] args) throws IOException {
        boolean known = (args.length == 2 || args.length == 4 && args[2].equals("--steps"))
                && (args[1].equals("--recompute") || args[1].equals("--keep"));
        if (!known) {
            System.err.println("usage: TrainingStepBench DIR --recompute|--keep [--steps N]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]), model = dir.resolve("model");
        boolean recompute = args[1].equals("--recompute");
        int steps = args.length == 4 ? Integer.parseInt(args[3]) : 2;
        if (steps < 1) throw new IllegalArgumentException("--steps " + steps + ": at least one step");
        float[] embeds = NpyFile.read(dir.resolve("embeds.npy")).floats();
        int[] labels = NpyFile.read(dir.resolve("labels.npy")).ints();
        try (WeightSource weights = Checkpoint.open(model)) {
            InputGradients g = InputGradients.of(HfConfig.load(model), weights, recompute);
            int tokens = labels.length;
            InputGradients.Result r = null;
            StringBuilder later = new StringBuilder();
            for (int step = 0; step < steps; step++) {
                long start = System.nanoTime(), cpuStart = cpuNanos();
                r = g.compute(embeds, 1, tokens, null, null, labels);
                double seconds = (System.nanoTime() - start) / 1e9, cpuSeconds = (cpuNanos() - cpuStart) / 1e9;
                if (step == 0) {
                    System.out.printf(Locale.ROOT, "gemel fp32, %d cores, recompute %s: loss %.6f over %d targets; forward + backward %.2f s "
                                    + "(%.1f s of CPU); peak RSS %.2f GB, max heap %.2f GB (activations by count %.2f GB)%n",
                            Runtime.getRuntime().availableProcessors(), recompute, r.loss(), r.targets(), seconds, cpuSeconds,
                            peakResidentBytes() / 1e9, Runtime.getRuntime().maxMemory() / 1e9, g.activationBytes(1, tokens, recompute) / 1e9);
                } else {
                    later.append(later.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.2f s (%.1f s of CPU)", seconds, cpuSeconds));
                }
            }
            if (steps > 1) System.out.printf(Locale.ROOT, "later steps: %s; peak RSS %.2f GB%n", later, peakResidentBytes() / 1e9);
            Path torch = dir.resolve("grad_torch.npy");
            if (Files.exists(torch)) {
                float[] expected = NpyFile.read(torch).floats();
                double scale = 0, diff = 0;
                for (int i = 0; i < expected.length; i++) {
                    scale = Math.max(scale, Math.abs(expected[i]));
                    diff = Math.max(diff, Math.abs(expected[i] - r.gradients()[i]));
                }
                System.out.printf(Locale.ROOT, "vs PyTorch: max |difference| %.3g, %.3g of the largest gradient %.3g%n", diff, diff / scale, scale);
            }
        }
    }

    /** CPU time of the whole process (all threads, the JIT and GC included), in nanoseconds. */
    private static long cpuNanos() {
        return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
    }

    /** VmHWM of /proc/self/status, in bytes. */
    private static long peakResidentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status")))
            if (line.startsWith("VmHWM:")) return 1024 * Long.parseLong(line.replaceAll("[^0-9]", ""));
        throw new IllegalStateException("/proc/self/status has no VmHWM");
    }
}
