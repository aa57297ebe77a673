package gemel.bench;

import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.NpyFile;
import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.Decoders;
import gemel.engine.model.KvCache;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * Times one of the plan's decoders as generation uses it: a prefill of each prompt length (logits of
 * the last position only), then single-token decode steps on the KV cache of the
 * {@code decodeAfter}-token prompt, then beam search's steps: {@code beams} rows of one token each on
 * that cache, shared by the rows as the linker shares its prompt's. The same prompt ids and steps as the
 * PyTorch peer; the logits of the prefill and of the last step of each kind are saved so the report can
 * check both computed the same thing. Each step follows a read of a large buffer, whose speed is the
 * bound of that step, and a {@link ComputeProbe} of the cores' speed at that moment; each timed prompt is
 * followed by such a probe.
 */
final class DecoderBench {
    // prompts long enough for the prompt kernels (MatMul.PANEL_TOKENS and up), two steps and two beam steps before timing: classes loaded, kernels compiled
    private static final int WARM_PROMPT = 256;
    // the JIT compiles the prompt kernels over the first few prompts (OPT-125m's first 512-token prompt took 3.0 s, its
    // second 0.58 s and its fourth 0.53 s): warm prompts run for this long, and at least twice
    private static final long WARM_NANOS = 5_000_000_000L;
    private static final int WARM_STEPS = 2;
    private static final int PROBE_ROUNDS = 400_000; // per chain: about a millisecond on this machine

    private final BenchPlan plan;
    private final BenchPlan.Model model;
    private final CausalLM lm;
    private final Path logitsDir;
    private final ResultLog log;

    private DecoderBench(BenchPlan plan, BenchPlan.Model model, CausalLM lm, Path logitsDir, ResultLog log) {
        this.plan = plan;
        this.model = model;
        this.lm = lm;
        this.logitsDir = logitsDir;
        this.log = log;
    }

    static void run(BenchPlan plan, String modelName, Path logitsDir, ResultLog log) {
        BenchPlan.Model model = plan.model(modelName);
        long t0 = System.nanoTime();
        try (CausalLM lm = Decoders.load(HfConfig.load(model.dir()), Checkpoint.open(model.dir()))) {
            log.record("model", model.name(), "phase", "load", "seconds", (System.nanoTime() - t0) / 1e9);
            new DecoderBench(plan, model, lm, logitsDir, log).time();
        }
    }

    private void time() {
        int after = plan.decodeAfter(), steps = plan.decodeSteps();
        KvCache warm = null;
        double first = 0, last = 0;
        int runs = 0;
        for (long start = System.nanoTime(); runs < 2 || System.nanoTime() - start < WARM_NANOS; runs++) {
            warm = lm.newCache(1, WARM_PROMPT + 2 * WARM_STEPS);
            long t0 = System.nanoTime();
            forward(0, WARM_PROMPT, warm);
            last = (System.nanoTime() - t0) / 1e9;
            if (runs == 0) first = last;
        }
        // the first prompt of a fresh JVM is what a one-off command waits for
        log.record("model", model.name(), "phase", "warm-up", "tokens", WARM_PROMPT, "runs", runs, "first_seconds", first, "last_seconds", last);
        for (int s = 0; s < WARM_STEPS; s++) forward(WARM_PROMPT + s, WARM_PROMPT + s + 1, warm);
        KvCache warmBeams = warm.fork(plan.beams());
        for (int s = 0; s < WARM_STEPS; s++) beamStep(WARM_PROMPT + WARM_STEPS, s, warmBeams);
        for (int w = 0; w < 200; w++) ComputeProbe.gflops(PROBE_ROUNDS); // compiled before the first timed probe
        for (int tokens : plan.prefillTokens()) {
            List<Double> seconds = new ArrayList<>(), compute = new ArrayList<>();
            KvCache cache = null;
            float[] logits = null;
            boolean untimed = true;
            long timedFrom = 0;
            while (seconds.size() < plan.prefillRepeats() || System.nanoTime() - timedFrom < plan.prefillSeconds() * 1e9) {
                cache = lm.newCache(1, tokens + (tokens == after ? steps + plan.beamSteps() : 0));
                long t0 = System.nanoTime();
                logits = forward(0, tokens, cache);
                if (untimed) {
                    // one untimed run first: the heap grows to what a prompt of this length allocates (fresh pages are
                    // faulted in on first use), which otherwise slowed the first timed runs of the small models by up to 20 %
                    untimed = false;
                    timedFrom = System.nanoTime();
                } else {
                    seconds.add((System.nanoTime() - t0) / 1e9);
                    // the cores' speed just after: a prompt timed in a slow spell of the shared machine shows beside it
                    compute.add(ComputeProbe.gflops(PROBE_ROUNDS));
                }
            }
            log.record("model", model.name(), "phase", "prefill", "tokens", tokens, "seconds", seconds.stream().mapToDouble(Double::doubleValue).toArray(),
                    "compute_gflops", compute.stream().mapToDouble(Double::doubleValue).toArray());
            if (tokens != after) continue;
            save("prefill-" + after, 1, logits);
            KvCache prompt = cache;
            try (Arena arena = Arena.ofShared()) { // shared: every core reads it
                // the machine's read bandwidth changes from minute to minute (other machines share its memory):
                // a read just before each step gives the bound that step ran against
                long bytes = plan.decodeStreamBytes();
                MemorySegment buffer = arena.allocate(bytes, 64);
                buffer.fill((byte) 0x3f);
                // compiled before the first timed read: many short reads (a few long ones left the first five timed reads interpreted)
                for (int w = 0; w < 500; w++) StreamingRead.sum(buffer.asSlice(0, 1 << 20));
                StreamingRead.sum(buffer);
                Steps decode = timed(buffer, steps, s -> forward(after + s, after + s + 1, prompt));
                log.record("model", model.name(), "phase", "decode", "after", after, "seconds", decode.seconds(),
                        "stream_gb_per_s", decode.bandwidth(), "compute_gflops", decode.compute());
                save("decode-" + steps, 1, decode.logits());
                KvCache beams = prompt.fork(plan.beams());
                Steps beamSteps = timed(buffer, plan.beamSteps(), s -> beamStep(after + steps, s, beams));
                log.record("model", model.name(), "phase", "beams", "rows", plan.beams(), "after", after + steps, "seconds", beamSteps.seconds(),
                        "stream_gb_per_s", beamSteps.bandwidth(), "compute_gflops", beamSteps.compute());
                save("beams-" + plan.beamSteps(), plan.beams(), beamSteps.logits());
            }
        }
    }

    /** Per step: its seconds, the read bandwidth and the compute just before it; and the last step's logits. */
    private record Steps(double[] seconds, double[] bandwidth, double[] compute, float[] logits) {}

    /** Runs {@code step.apply(s)} for s in [0, count), each after a timed read of {@code buffer} and a compute probe. */
    private static Steps timed(MemorySegment buffer, int count, IntFunction<float[]> step) {
        double[] seconds = new double[count], bandwidth = new double[count], compute = new double[count];
        float[] logits = null;
        for (int s = 0; s < count; s++) {
            long t0 = System.nanoTime();
            StreamingRead.sum(buffer);
            bandwidth[s] = buffer.byteSize() / ((System.nanoTime() - t0) / 1e9) / 1e9;
            compute[s] = ComputeProbe.gflops(PROBE_ROUNDS);
            t0 = System.nanoTime();
            logits = step.apply(s);
            seconds[s] = (System.nanoTime() - t0) / 1e9;
        }
        return new Steps(seconds, bandwidth, compute, logits);
    }

    /** Beam step s on top of {@code past} positions: row b takes the plan's prompt id past + s * beams + b; the logits [beams, vocab]. */
    private float[] beamStep(int past, int s, KvCache cache) {
        int rows = plan.beams(), width = lm.shape().inputWidth(), first = past + s * rows;
        checkIds(first + rows);
        float[] embeds = new float[rows * width]; // [rows, inputWidth]
        for (int b = 0; b < rows; b++) lm.embed(model.promptIds()[first + b], embeds, b * width);
        return lm.forward(new DecoderInput(embeds, rows, 1, null, null), cache, IntStream.range(0, rows).toArray());
    }

    /** Prompt positions [start, end) on top of a cache holding [0, start); the logits [vocab] of the last one. */
    private float[] forward(int start, int end, KvCache cache) {
        int width = lm.shape().inputWidth(), n = end - start;
        checkIds(end);
        float[] embeds = new float[n * width]; // [n, inputWidth]
        for (int i = 0; i < n; i++) lm.embed(model.promptIds()[start + i], embeds, i * width);
        return lm.forward(new DecoderInput(embeds, 1, n, null, null), cache, new int[] {n - 1});
    }

    private void checkIds(int needed) {
        if (needed > model.promptIds().length)
            throw new IllegalArgumentException("the plan's prompt for " + model.name() + " has " + model.promptIds().length + " ids, " + needed + " needed");
    }

    /** Logits [vocab] of one row, [rows, vocab] of several: the shapes the peer saves. */
    private void save(String point, int rows, float[] logits) {
        Path file = logitsDir.resolve(model.name() + ".gemel." + point + ".npy");
        NpyFile.write(file, rows == 1 ? new long[] {logits.length} : new long[] {rows, logits.length / rows}, logits);
        log.record("model", model.name(), "phase", "logits", "point", point, "file", file.toString());
    }
}
