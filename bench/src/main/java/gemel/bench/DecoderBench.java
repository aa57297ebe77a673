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

/**
 * Times one of the plan's decoders as generation uses it: a prefill of each prompt length (logits of
 * the last position only), then single-token decode steps on the KV cache of the
 * {@code decodeAfter}-token prompt. The same prompt ids and steps as the PyTorch peer; the logits of
 * the prefill and of the last step are saved so the report can check both computed the same thing.
 * Each decode step follows a read of a large buffer, whose speed is the bound of that step, and a
 * {@link ComputeProbe} of the cores' speed at that moment.
 */
final class DecoderBench {
    // a prompt long enough for the prompt kernels (MatMul.PANEL_TOKENS and up) and two steps before timing: classes loaded, kernels compiled
    private static final int WARM_PROMPT = 256;
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
        KvCache warm = lm.newCache(1, WARM_PROMPT + WARM_STEPS);
        forward(0, WARM_PROMPT, warm);
        for (int s = 0; s < WARM_STEPS; s++) forward(WARM_PROMPT + s, WARM_PROMPT + s + 1, warm);
        for (int tokens : plan.prefillTokens()) {
            double[] seconds = new double[plan.prefillRepeats()];
            KvCache cache = null;
            float[] logits = null;
            // one untimed run first: the heap grows to what a prompt of this length allocates (fresh pages are
            // faulted in on first use), which otherwise slowed the first timed runs of the small models by up to 20 %
            for (int r = -1; r < seconds.length; r++) {
                cache = lm.newCache(1, tokens + (tokens == after ? steps : 0));
                long t0 = System.nanoTime();
                logits = forward(0, tokens, cache);
                if (r >= 0) seconds[r] = (System.nanoTime() - t0) / 1e9;
            }
            log.record("model", model.name(), "phase", "prefill", "tokens", tokens, "seconds", seconds);
            if (tokens != after) continue;
            save("prefill-" + after, logits);
            double[] stepSeconds = new double[steps], bandwidth = new double[steps], compute = new double[steps];
            try (Arena arena = Arena.ofShared()) { // shared: every core reads it
                // the machine's read bandwidth changes from minute to minute (other machines share its memory):
                // a read just before each step gives the bound that step ran against
                long bytes = plan.decodeStreamBytes();
                MemorySegment buffer = arena.allocate(bytes, 64);
                buffer.fill((byte) 0x3f);
                // compiled before the first timed read: many short reads (a few long ones left the first five timed reads interpreted)
                for (int w = 0; w < 500; w++) StreamingRead.sum(buffer.asSlice(0, 1 << 20));
                StreamingRead.sum(buffer);
                for (int w = 0; w < 200; w++) ComputeProbe.gflops(PROBE_ROUNDS); // compiled before the first timed probe
                for (int s = 0; s < steps; s++) {
                    long t0 = System.nanoTime();
                    StreamingRead.sum(buffer);
                    bandwidth[s] = bytes / ((System.nanoTime() - t0) / 1e9) / 1e9;
                    compute[s] = ComputeProbe.gflops(PROBE_ROUNDS);
                    t0 = System.nanoTime();
                    logits = forward(after + s, after + s + 1, cache);
                    stepSeconds[s] = (System.nanoTime() - t0) / 1e9;
                }
            }
            log.record("model", model.name(), "phase", "decode", "after", after, "seconds", stepSeconds, "stream_gb_per_s", bandwidth, "compute_gflops", compute);
            save("decode-" + steps, logits);
        }
    }

    /** Prompt positions [start, end) on top of a cache holding [0, start); the logits [vocab] of the last one. */
    private float[] forward(int start, int end, KvCache cache) {
        int width = lm.shape().inputWidth(), n = end - start;
        if (end > model.promptIds().length)
            throw new IllegalArgumentException("the plan's prompt for " + model.name() + " has " + model.promptIds().length + " ids, " + end + " needed");
        float[] embeds = new float[n * width]; // [n, inputWidth]
        for (int i = 0; i < n; i++) lm.embed(model.promptIds()[start + i], embeds, i * width);
        return lm.forward(new DecoderInput(embeds, 1, n, null, null), cache, new int[] {n - 1});
    }

    private void save(String point, float[] logits) {
        Path file = logitsDir.resolve(model.name() + ".gemel." + point + ".npy");
        NpyFile.write(file, new long[] {logits.length}, logits);
        log.record("model", model.name(), "phase", "logits", "point", point, "file", file.toString());
    }
}
