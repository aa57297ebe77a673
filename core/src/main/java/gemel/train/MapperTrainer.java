package gemel.train;

import gemel.engine.grad.InputGradients;
import gemel.engine.model.CausalLM;
import gemel.link.FeatureMapper;
import gemel.link.Prompt;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Trains the feature mapper with the frozen LLM: per example the causal-LM loss on the target,
 * its gradient down to the input embeddings ({@link InputGradients}), then through the mapper;
 * gradients averaged over {@code gradAccum} examples, clipped by global norm, applied by AdamW with
 * a linear warmup/decay schedule counted in optimizer steps. Examples are visited in a seeded
 * shuffle per epoch. Dev accuracy is measured every {@code evalEvery} optimizer steps (and before
 * the first and after the last), the best mapper is kept. Writes into the run directory:
 * {@code mapper.safetensors} (the best mapper), {@code checkpoint.safetensors} (to resume exactly),
 * {@code metrics.jsonl} and {@code training.png}.
 */
public final class MapperTrainer {

    /**
     * The run's hyper-parameters. The reference: lr 1e-6 (on fp16 weights), weight decay 0.01,
     * eps 1e-6, clip 1.0, batch 1 x accumulation 16, 5 epochs, warmup 10 %, seed 42, dev every 5000 steps.
     * {@code checkpointEvery}: a checkpoint is also written at the first step this long after the last one, so that a
     * run stopped by a crash or by losing its machines loses at most that much work (dev points can be days apart).
     */
    public record Settings(int epochs, double learningRate, double weightDecay, double eps, double clipNorm, int gradAccum,
                           double warmupFraction, int evalEvery, long seed, Duration checkpointEvery) {
        public Settings {
            if (epochs < 1) throw new IllegalArgumentException("epochs must be at least 1, got " + epochs);
            if (checkpointEvery.isNegative()) throw new IllegalArgumentException("checkpoint interval must not be negative, got " + checkpointEvery);
            if (gradAccum < 1) throw new IllegalArgumentException("gradient accumulation must be at least 1, got " + gradAccum);
            if (!(learningRate > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
            if (evalEvery < 0) throw new IllegalArgumentException("eval-every must be >= 0 (0: only at the end), got " + evalEvery);
        }
    }

    /**
     * What a run reports: {@code output} is the mapper written when {@code finished}, else the
     * checkpoint to resume from. {@code bestAccuracy} is -1 without a dev set.
     */
    public record Outcome(long optimizerSteps, boolean finished, double finalLoss, double bestAccuracy, long bestStep, Path output) {
    }

    private final CausalLM model;
    private final GradientPool gradients;
    private final TrainingSet train;
    private final ToDoubleFunction<FeatureMapper> devAccuracy; // null when there is no dev set
    private final Settings settings;
    private final PrintStream progress;

    /** {@code model} embeds the text; {@code gradients} is the same model's loss gradient, computed in this process. */
    public MapperTrainer(CausalLM model, InputGradients gradients, TrainingSet train, ToDoubleFunction<FeatureMapper> devAccuracy, Settings settings, PrintStream progress) {
        this(model, GradientPool.local(gradients), train, devAccuracy, settings, progress);
    }

    /**
     * {@code model} embeds the text; {@code gradients} computes the same model's loss gradient, the examples of a step on
     * all its sources at once (workers on other machines), the results summed in example order as one machine sums them.
     */
    public MapperTrainer(CausalLM model, GradientPool gradients, TrainingSet train, ToDoubleFunction<FeatureMapper> devAccuracy, Settings settings, PrintStream progress) {
        if (train.size() == 0) throw new IllegalArgumentException("the training set is empty");
        this.model = model;
        this.gradients = gradients;
        this.train = train;
        this.devAccuracy = devAccuracy;
        this.settings = settings;
        this.progress = progress;
    }

    /** Optimizer steps of the whole run: the examples of all epochs, one step per {@code gradAccum} (the last may be short). */
    public long totalSteps() {
        long micro = (long) settings.epochs() * train.size();
        return (micro + settings.gradAccum() - 1) / settings.gradAccum();
    }

    /**
     * Trains {@code mapper} in place (it ends holding the best mapper by dev accuracy, or the last one
     * without a dev set); with {@code resume} continues from {@code runDir/checkpoint.safetensors}.
     */
    public Outcome run(FeatureMapper mapper, Path runDir, boolean resume) throws java.io.IOException {
        return run(mapper, runDir, resume, Long.MAX_VALUE);
    }

    /**
     * As {@link #run(FeatureMapper, Path, boolean)}, but stops after optimizer step {@code stopAfter}
     * with a checkpoint, to be continued later with {@code resume} (the result is the same as one
     * uninterrupted run).
     */
    public Outcome run(FeatureMapper mapper, Path runDir, boolean resume, long stopAfter) throws java.io.IOException {
        Files.createDirectories(runDir);
        Path checkpointFile = runDir.resolve("checkpoint.safetensors"), best = runDir.resolve("mapper.safetensors");
        Path metricsFile = runDir.resolve("metrics.jsonl"), plot = runDir.resolve("training.png");
        float[] w = mapper.weight(), b = mapper.bias();
        AdamW adam = new AdamW(new AdamW.Settings(0.9, 0.999, settings.eps(), settings.weightDecay()),
                List.of(new TrainableParameter("weight", w, true), new TrainableParameter("bias", b, false)));
        LinearWarmupSchedule schedule = LinearWarmupSchedule.of(settings.learningRate(), totalSteps(), settings.warmupFraction());
        long totalMicro = (long) settings.epochs() * train.size();
        int n = train.size();

        long step = 0, micro = 0, bestStep = -1;
        double bestAccuracy = -1;
        float[] bestW = w.clone(), bestB = b.clone();
        MetricsLog metrics;
        if (resume) {
            TrainingCheckpoint c = TrainingCheckpoint.load(checkpointFile);
            if (c.seed() != settings.seed())
                throw new IllegalArgumentException(checkpointFile + " was made with seed " + c.seed() + ", this run has seed " + settings.seed());
            if (c.weight().length != w.length || c.bias().length != b.length)
                throw new IllegalArgumentException(checkpointFile + " holds a mapper of another size");
            System.arraycopy(c.weight(), 0, w, 0, w.length);
            System.arraycopy(c.bias(), 0, b, 0, b.length);
            adam.restore(c.adam());
            step = c.optimizerStep();
            micro = (long) c.epoch() * n + c.position();
            bestAccuracy = c.bestAccuracy();
            bestStep = c.bestStep();
            bestW = c.bestWeight();
            bestB = c.bestBias();
            metrics = MetricsLog.resume(metricsFile, step);
            progress.printf(Locale.ROOT, "resuming at optimizer step %d of %d (epoch %d, example %d)%n", step, totalSteps(), c.epoch() + 1, c.position());
        } else {
            metrics = MetricsLog.create(metricsFile);
            if (devAccuracy != null) {
                bestAccuracy = evaluate(mapper, 0, metrics);
                bestStep = 0;
            }
        }

        float[] gradW = new float[w.length], gradB = new float[b.length];
        double lastLoss = Double.NaN;
        int orderEpoch = -1;
        int[] order = null;
        long started = System.nanoTime(), startMicro = micro, lastPrint = 0, lastCheckpoint = started;
        try (metrics) {
            while (micro < totalMicro && step < stopAfter) {
                // the examples of one optimizer step: their gradients computed all at once, then summed in order
                int window = (int) Math.min(settings.gradAccum(), totalMicro - micro);
                List<Prompt> examples = new ArrayList<>(window);
                List<Integer> indices = new ArrayList<>(window);
                for (long m = micro; m < micro + window; m++) {
                    int epoch = (int) (m / n), position = (int) (m % n);
                    if (epoch != orderEpoch) {
                        order = EpochOrder.of(settings.seed(), epoch, n);
                        orderEpoch = epoch;
                    }
                    examples.add(train.example(order[position]));
                    indices.add(order[position]);
                }
                List<InputGradients.Result> results = gradients.computeAll(inputs(examples, indices, mapper));
                double lossSum = 0;
                for (int i = 0; i < window; i++) lossSum += backpropagate(examples.get(i), results.get(i), mapper, gradW, gradB);
                micro += window;
                double lr = schedule.rate(step);
                double norm = update(adam, lr, window, gradW, gradB);
                step++;
                lastLoss = lossSum / window;
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("step", step);
                line.put("epoch", (double) micro / n);
                line.put("loss", lastLoss);
                line.put("lr", lr);
                line.put("grad_norm", norm);
                metrics.log("train", line);

                boolean last = micro == totalMicro, stopping = step == stopAfter;
                if (devAccuracy != null && (last || settings.evalEvery() > 0 && step % settings.evalEvery() == 0)) {
                    double accuracy = evaluate(mapper, step, metrics);
                    if (accuracy > bestAccuracy) {
                        bestAccuracy = accuracy;
                        bestStep = step;
                        bestW = w.clone();
                        bestB = b.clone();
                    }
                }
                boolean due = System.nanoTime() - lastCheckpoint >= settings.checkpointEvery().toNanos();
                if (last || stopping || due || settings.evalEvery() > 0 && step % settings.evalEvery() == 0) {
                    lastCheckpoint = System.nanoTime();
                    new TrainingCheckpoint(new long[] {w.length / mapper.dimClip(), mapper.dimClip()}, w, b, bestW, bestB, adam.state(), step,
                            (int) (micro / n), (int) (micro % n), settings.seed(), bestAccuracy, bestStep).save(checkpointFile);
                }
                long now = System.nanoTime();
                if (last || stopping || now - lastPrint > 2_000_000_000L) {
                    lastPrint = now;
                    double rate = (micro - startMicro) / Math.max(1e-9, (now - started) / 1e9);
                    progress.printf(Locale.ROOT, "step %d/%d  epoch %.2f  loss %.4f  lr %.3g  |  %.1f examples/s  ETA %s%n", step, totalSteps(),
                            (double) micro / n, lastLoss, lr, rate, duration(Math.round((totalMicro - micro) / Math.max(1e-9, rate))));
                }
            }
        }
        if (micro < totalMicro) {
            progress.printf(Locale.ROOT, "stopped after optimizer step %d of %d; continue with --resume%n", step, totalSteps());
            return new Outcome(step, false, lastLoss, bestAccuracy, bestStep, checkpointFile);
        }
        if (devAccuracy != null) { // the run ends holding the best mapper, not the last one
            System.arraycopy(bestW, 0, w, 0, w.length);
            System.arraycopy(bestB, 0, b, 0, b.length);
        }
        mapper.save(best);
        TrainingPlot.write(MetricsLog.read(metricsFile), "mapper training: loss and dev accuracy", plot);
        return new Outcome(step, true, lastLoss, bestAccuracy, bestStep, best);
    }

    /** The inputs of the frozen model for {@code examples} (training examples {@code indices}) under {@code mapper}. */
    private List<GradientPool.Example> inputs(List<Prompt> examples, List<Integer> indices, FeatureMapper mapper) {
        List<GradientPool.Example> inputs = new ArrayList<>(examples.size());
        for (int i = 0; i < examples.size(); i++) {
            Prompt example = examples.get(i);
            if (example.labels() == null) throw new IllegalArgumentException("training example " + indices.get(i) + " has no labels");
            inputs.add(new GradientPool.Example(() -> example.embeddings(model, mapper), example.length(), example.labels()));
        }
        return inputs;
    }

    /** Loss of one example; adds its mapper gradient (through every image slot of the prompt, from {@code r}) to gradW, gradB. */
    private static double backpropagate(Prompt example, InputGradients.Result r, FeatureMapper mapper, float[] gradW, float[] gradB) {
        float[] dTokens = new float[mapper.tokens() * mapper.width()];
        for (Prompt.Segment segment : example.segments()) {
            if (!(segment instanceof Prompt.ImageSlot slot)) continue;
            int from = slot.start() * mapper.width();
            System.arraycopy(r.gradients(), from, dTokens, 0, dTokens.length);
            mapper.backward(slot.feature(), dTokens, gradW, gradB);
        }
        return r.loss();
    }

    /** Averages the accumulated gradients, clips them, takes one AdamW step and clears them; returns the norm before clipping. */
    private double update(AdamW adam, double lr, int accumulated, float[] gradW, float[] gradB) {
        float[][] grads = {gradW, gradB};
        for (float[] g : grads) for (int i = 0; i < g.length; i++) g[i] /= accumulated;
        double norm = GradientClipping.clip(grads, settings.clipNorm());
        adam.update(grads, lr);
        for (float[] g : grads) Arrays.fill(g, 0);
        return norm;
    }

    private double evaluate(FeatureMapper mapper, long step, MetricsLog metrics) {
        long t0 = System.nanoTime();
        double accuracy = devAccuracy.applyAsDouble(mapper);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", step);
        line.put("accuracy", accuracy);
        metrics.log("dev", line);
        progress.printf(Locale.ROOT, "dev accuracy at step %d: %.2f %% (%.1f s)%n", step, 100 * accuracy, (System.nanoTime() - t0) / 1e9);
        return accuracy;
    }

    private static String duration(long seconds) {
        return String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
    }
}
