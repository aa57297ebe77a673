package gemel.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.config.HfConfig;
import gemel.engine.grad.InputGradients;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.WeightSource;
import gemel.engine.model.CausalLM;
import gemel.engine.model.Decoders;
import gemel.link.FeatureMapper;
import gemel.link.Prompt;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop on the tiny OPT of the training fixtures with hand-made prompts: loss goes down, resume is exact. */
class MapperTrainerTest {
    private static final Path MODEL = Path.of(System.getProperty("gemel.root", ".")).resolve("core/src/test/resources/fixtures/training/opt/model");
    private static final int DIM = 6, K = 2;
    private static CausalLM model;
    private static WeightSource weights;
    private static InputGradients gradients;

    @BeforeAll
    static void open() {
        HfConfig config = HfConfig.load(MODEL);
        model = Decoders.load(config, Checkpoint.open(MODEL));
        weights = Checkpoint.open(MODEL);
        gradients = InputGradients.of(config, weights, false);
    }

    @AfterAll
    static void close() {
        model.close();
        weights.close();
    }

    /** Six prompts: [image, text, target]; the target's first token depends on the image only. */
    private static TrainingSet prompts() {
        Random r = new Random(3);
        float[][] images = new float[3][DIM];
        for (float[] f : images) for (int i = 0; i < DIM; i++) f[i] = (float) r.nextGaussian();
        int[] text = {5, 17, 33, 8};
        int[][] targets = {{40, 2}, {41, 2}, {42, 2}};
        return new TrainingSet() {
            @Override public int size() { return 6; }
            @Override public Prompt example(int index) {
                int e = index % 3;
                int length = K + text.length + targets[e].length;
                int[] labels = new int[length];
                Arrays.fill(labels, Prompt.IGNORE);
                System.arraycopy(targets[e], 0, labels, K + text.length, targets[e].length);
                return new Prompt(List.of(new Prompt.ImageSlot(0, K, images[e]), new Prompt.Text(K, text),
                        new Prompt.Text(K + text.length, targets[e])), length, labels);
            }
        };
    }

    private static MapperTrainer trainer(int epochs, int evalEvery, ToDoubleFunction<FeatureMapper> dev, PrintStream out) {
        return new MapperTrainer(model, gradients, prompts(), dev, new MapperTrainer.Settings(epochs, 0.05, 0.01, 1e-6, 1.0, 2, 0.1, evalEvery, 42, Duration.ofMinutes(30)), out);
    }

    private static final ToDoubleFunction<FeatureMapper> PSEUDO_DEV = m -> Math.abs(Math.sin(1000 * m.weight()[0])); // deterministic, varies

    @Test
    void lossGoesDownAndEverythingIsWritten(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        MapperTrainer t = trainer(10, 5, PSEUDO_DEV, new PrintStream(log, true));
        assertEquals(30, t.totalSteps());
        MapperTrainer.Outcome o = t.run(FeatureMapper.initial(model.shape(), DIM, K, 1), dir, false);
        assertTrue(o.finished());
        List<Map<String, Object>> events = MetricsLog.read(dir.resolve("metrics.jsonl"));
        double first = ((Number) events.stream().filter(e -> "train".equals(e.get("kind"))).findFirst().orElseThrow().get("loss")).doubleValue();
        assertTrue(o.finalLoss() < 0.5 * first, "loss " + first + " -> " + o.finalLoss());
        assertEquals(7, events.stream().filter(e -> "dev".equals(e.get("kind"))).count(), "dev at step 0 and every 5 steps");
        assertTrue(Files.size(dir.resolve("training.png")) > 1000);
        FeatureMapper saved = FeatureMapper.load(dir.resolve("mapper.safetensors"), model.shape());
        assertEquals(o.bestAccuracy(), PSEUDO_DEV.applyAsDouble(saved), 0, "the saved mapper is the best one");
        assertTrue(log.toString().contains("ETA"), "progress with ETA: " + log);
    }

    @Test
    void resumedRunEqualsAnUninterruptedOne(@TempDir Path dir) throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        FeatureMapper whole = FeatureMapper.initial(model.shape(), DIM, K, 1);
        trainer(3, 4, PSEUDO_DEV, quiet).run(whole, dir.resolve("whole"), false);

        FeatureMapper part = FeatureMapper.initial(model.shape(), DIM, K, 1);
        MapperTrainer.Outcome stopped = trainer(3, 4, PSEUDO_DEV, quiet).run(part, dir.resolve("split"), false, 5);
        assertFalse(stopped.finished());
        assertEquals(5, stopped.optimizerSteps());
        FeatureMapper resumed = FeatureMapper.initial(model.shape(), DIM, K, 99); // different start: everything comes from the checkpoint
        MapperTrainer.Outcome done = trainer(3, 4, PSEUDO_DEV, quiet).run(resumed, dir.resolve("split"), true);
        assertTrue(done.finished());
        assertArrayEquals(whole.weight(), resumed.weight());
        assertArrayEquals(whole.bias(), resumed.bias());
        assertEquals(MetricsLog.read(dir.resolve("whole/metrics.jsonl")), MetricsLog.read(dir.resolve("split/metrics.jsonl")));
    }

    @Test
    void resumingWithAnotherSeedIsRefused(@TempDir Path dir) throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        trainer(1, 0, null, quiet).run(FeatureMapper.initial(model.shape(), DIM, K, 1), dir, false, 1);
        MapperTrainer other = new MapperTrainer(model, gradients, prompts(), null,
                new MapperTrainer.Settings(1, 0.05, 0.01, 1e-6, 1.0, 2, 0.1, 0, 7, Duration.ofMinutes(30)), quiet);
        var e = assertThrows(IllegalArgumentException.class, () -> other.run(FeatureMapper.initial(model.shape(), DIM, K, 1), dir, true));
        assertTrue(e.getMessage().contains("seed"), e.getMessage());
    }

    /**
     * A run whose machines are all lost at optimizer step 4 stops with an error, having written a checkpoint every step
     * (a checkpoint interval of zero), and resumed on a working machine ends as an uninterrupted run.
     */
    @Test
    void aRunThatLosesItsMachinesResumesFromItsLastStep(@TempDir Path dir) throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        FeatureMapper whole = FeatureMapper.initial(model.shape(), DIM, K, 1);
        trainer(3, 0, null, quiet).run(whole, dir.resolve("whole"), false);

        int[] computed = {0};
        ExampleGradients dying = new ExampleGradients() {
            @Override
            public InputGradients.Result compute(float[] embeds, int tokens, int[] labels) throws java.io.IOException {
                if (++computed[0] > 7) throw new java.io.IOException("connection reset");
                return gradients.compute(embeds, 1, tokens, null, null, labels);
            }

            @Override
            public String name() { return "a dying worker"; }
        };
        MapperTrainer.Settings everyStep = new MapperTrainer.Settings(3, 0.05, 0.01, 1e-6, 1.0, 2, 0.1, 0, 42, Duration.ZERO);
        try (GradientPool pool = new GradientPool(List.of(dying), quiet)) {
            MapperTrainer lost = new MapperTrainer(model, pool, prompts(), null, everyStep, quiet);
            var e = assertThrows(IllegalStateException.class, () -> lost.run(FeatureMapper.initial(model.shape(), DIM, K, 1), dir.resolve("split"), false));
            assertTrue(e.getMessage().contains("a dying worker: connection reset") && e.getMessage().contains("--resume"), e.getMessage());
        }
        assertEquals(3, TrainingCheckpoint.load(dir.resolve("split/checkpoint.safetensors")).optimizerStep(), "steps 1-3 done, step 4 lost");
        FeatureMapper resumed = FeatureMapper.initial(model.shape(), DIM, K, 99);
        new MapperTrainer(model, gradients, prompts(), null, everyStep, quiet).run(resumed, dir.resolve("split"), true);
        assertArrayEquals(whole.weight(), resumed.weight());
        assertArrayEquals(whole.bias(), resumed.bias());
        assertEquals(MetricsLog.read(dir.resolve("whole/metrics.jsonl")), MetricsLog.read(dir.resolve("split/metrics.jsonl")));
    }
}
