package gemel.synth;

import gemel.data.KbEntity;
import gemel.data.KnowledgeBase;
import gemel.data.MelExample;
import gemel.demos.EmbeddingCache;
import gemel.demos.OnnxSentenceEncoder;
import gemel.demos.SentenceEncoder;
import gemel.engine.config.HfConfig;
import gemel.engine.grad.InputGradients;
import gemel.engine.io.Checkpoint;
import gemel.engine.model.CausalLM;
import gemel.engine.model.Decoders;
import gemel.engine.tokenizer.Tokenizer;
import gemel.eval.Evaluation;
import gemel.features.ImageFeatures;
import gemel.features.MissingFeaturePolicy;
import gemel.link.DecodingOptions;
import gemel.link.EntityNames;
import gemel.link.EntityTree;
import gemel.link.FeatureMapper;
import gemel.link.PromptBuilder;
import gemel.train.DevEvaluator;
import gemel.train.LinkingData;
import gemel.train.MapperTrainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The end-to-end demo with nothing downloaded: writes the synthetic benchmark, a byte-level BPE
 * tokenizer learned from it and a tiny OPT model with random weights, measures test accuracy of an
 * untrained mapper, trains the mapper on the frozen model, then measures test accuracy with and
 * without the image and with and without demonstrations, and links a few examples.
 */
public final class SyntheticDemo {

    /** The demo's knobs: the benchmark, image tokens per image, demonstrations per prompt, and training. */
    public record Settings(SyntheticBenchmark.Settings benchmark, int imageTokens, int demos, MapperTrainer.Settings training, int merges) {
        public static Settings standard() {
            // a random model is harder to steer than a pretrained one: more image tokens and a far larger
            // learning rate than the reference's k = 4 and 1e-6 on OPT
            return new Settings(SyntheticBenchmark.Settings.demo(), 8, 2,
                    new MapperTrainer.Settings(8, 1e-1, 0.01, 1e-6, 1.0, 2, 0.1, 100, 42, Duration.ofMinutes(30)), 300);
        }
    }

    /** One row of the result table. */
    public record Row(String setting, double accuracy) {
    }

    /** The table and a few linked test examples (text, mention, gold name, prediction with image, prediction without). */
    public record Report(List<Row> rows, List<String[]> examples, MapperTrainer.Outcome training) {
    }

    private SyntheticDemo() {
    }

    /** Runs everything inside {@code dir} (data/, model/, run/, cache/). */
    public static Report run(Path dir, Settings s, PrintStream out) throws IOException {
        SyntheticBenchmark bench = SyntheticBenchmark.generate(s.benchmark());
        SyntheticBenchmark.BenchmarkFiles files = bench.write(dir.resolve("data"));
        out.printf(Locale.ROOT, "benchmark: %d entities in %d look-alike groups, %d train / %d dev / %d test mentions, %d-d image features -> %s%n",
                bench.entities().size(), s.benchmark().groups(), bench.train().size(), bench.dev().size(), bench.test().size(), bench.dim(), files.train().getParent());

        Path modelDir = dir.resolve("model");
        List<String> corpus = new ArrayList<>(bench.corpus());
        corpus.add("[Text]\n[Question]What does  mentioned in the text refer to?\n[Answer]\n");
        ByteLevelBpeTrainer.Vocabulary vocabulary = ByteLevelBpeTrainer.train(corpus, s.merges());
        ByteLevelBpeTrainer.writeOptFolder(vocabulary, modelDir);
        TinyOptWriter.Shape shape = TinyOptWriter.Shape.demo(vocabulary.tokens().size());
        TinyOptWriter.write(shape, s.benchmark().seed(), modelDir);
        out.printf(Locale.ROOT, "model: tiny OPT with RANDOM weights (hidden %d, %d layers, vocabulary %d from a BPE learned on the benchmark) -> %s%n",
                shape.hidden(), shape.layers(), shape.vocab(), modelDir);

        HfConfig config = HfConfig.load(modelDir);
        try (CausalLM model = Decoders.load(config, Checkpoint.open(modelDir));
             ImageFeatures features = ImageFeatures.open(files.features())) {
            Tokenizer tokenizer = Tokenizer.load(modelDir);
            InputGradients gradients = InputGradients.of(model, false);
            SentenceEncoder encoder = OnnxSentenceEncoder.allMiniLmL6V2();
            LinkingData data = LinkingData.of(bench.train(), features, MissingFeaturePolicy.FAIL, encoder, new EmbeddingCache(dir.resolve("cache")), out);
            PromptBuilder prompts = new PromptBuilder(tokenizer, s.imageTokens());
            List<String> names = bench.entities().stream().map(KbEntity::name).toList();
            EntityTree tree = EntityNames.tree(tokenizer, names, model.shape().bosTokenId(), model.shape().eosTokenId(), null);
            KnowledgeBase kb = KnowledgeBase.of(bench.entities(), files.kb().toString());
            DevEvaluator evaluator = new DevEvaluator(model, tokenizer, tree, kb, DecodingOptions.reference(), data);

            LinkingData.Queries dev = data.queries(bench.dev(), s.demos());
            LinkingData.Queries test = data.queries(bench.test(), s.demos()), testAlone = data.queries(bench.test(), 0);
            FeatureMapper mapper = FeatureMapper.initial(model.shape(), bench.dim(), s.imageTokens(), s.training().seed());
            List<Row> rows = new ArrayList<>();
            rows.add(new Row("untrained mapper, image + " + s.demos() + " demonstrations", evaluator.evaluate(test, mapper, true).accuracy()));

            MapperTrainer trainer = new MapperTrainer(model, gradients, data.trainingSet(prompts, s.demos()),
                    m -> evaluator.evaluate(dev, m, true).accuracy(), s.training(), out);
            out.printf(Locale.ROOT, "training the mapper: %d optimizer steps (%d epochs x %d mentions, accumulation %d)%n",
                    trainer.totalSteps(), s.training().epochs(), bench.train().size(), s.training().gradAccum());
            MapperTrainer.Outcome outcome = trainer.run(mapper, dir.resolve("run"), false);

            Evaluation withImage = evaluator.evaluate(test, mapper, true);
            Evaluation withoutImage = evaluator.evaluate(test, mapper, false);
            rows.add(new Row("trained mapper, image + " + s.demos() + " demonstrations", withImage.accuracy()));
            rows.add(new Row("trained mapper, image, no demonstrations", evaluator.evaluate(testAlone, mapper, true).accuracy()));
            rows.add(new Row("trained mapper, no image + " + s.demos() + " demonstrations", withoutImage.accuracy()));
            rows.add(new Row("trained mapper, no image, no demonstrations", evaluator.evaluate(testAlone, mapper, false).accuracy()));
            rows.add(new Row("chance among " + s.benchmark().groupSize() + " look-alikes (the text cannot tell them apart)", 1.0 / s.benchmark().groupSize()));

            // the first test mentions are the look-alikes of the first groups: same mention, different entities
            List<String[]> examples = new ArrayList<>();
            for (int i = 0; i < Math.min(2 * s.benchmark().groupSize(), test.examples().size()); i++) {
                MelExample e = test.examples().get(i);
                examples.add(new String[] {e.text(), e.mention(), e.target(), withImage.predictions().get(i).prediction(), withoutImage.predictions().get(i).prediction()});
            }
            return new Report(rows, examples, outcome);
        }
    }
}
