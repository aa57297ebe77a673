package gemel.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.data.KbEntity;
import gemel.data.KnowledgeBase;
import gemel.data.MelExample;
import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.Decoders;
import gemel.engine.tokenizer.Tokenizer;
import gemel.features.ImageFeatures;
import gemel.link.DecodingOptions;
import gemel.link.Demonstration;
import gemel.link.EntityNames;
import gemel.link.EntityTree;
import gemel.link.FeatureMapper;
import gemel.link.LinkIndex;
import gemel.link.LinkQuery;
import gemel.link.LinkResult;
import gemel.link.LinkedEntity;
import gemel.link.Linker;
import gemel.link.LinkerSettings;
import gemel.link.Prompt;
import gemel.link.PromptBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Evaluation on a small synthetic benchmark through a tiny random OPT (core/src/test/resources/eval/tiny-opt):
 * the answer key is computed here by brute force, scoring every knowledge-base name by teacher forcing in one
 * forward pass over prompt + name, which constrained beam search must reproduce when it has a beam per name.
 */
class EvaluationTest {
    static final Path MODEL = Path.of(System.getProperty("gemel.root"), "core/src/test/resources/eval/tiny-opt");
    static final int DIM_CLIP = 8, IMAGE_TOKENS = 2;
    /** Two entities share the name "Paris": the first in KB order is the one linked. */
    static final KnowledgeBase KB = KnowledgeBase.of(List.of(
            new KbEntity("Q1", "Larry Hagman", null), new KbEntity("Q2", "Larry Bird", null), new KbEntity("Q3", "Ada Lovelace", null),
            new KbEntity("Q4", "Alan Turing", null), new KbEntity("Q5", "Paris", null), new KbEntity("Q6", "Paris Hilton", null),
            new KbEntity("Q7", "Paris", null)), "test kb");

    static CausalLM model;
    static Tokenizer tokenizer;
    static FeatureMapper mapper;
    static EntityTree tree;
    static List<MelExample> training;
    static DemonstrationPool pool;

    @BeforeAll
    static void load() {
        model = Decoders.load(HfConfig.load(MODEL), Checkpoint.open(MODEL));
        tokenizer = Tokenizer.load(MODEL);
        mapper = FeatureMapper.initial(model.shape(), DIM_CLIP, IMAGE_TOKENS, 5);
        tree = EntityNames.tree(tokenizer, KB.names(), 2, 2, null);
        training = List.of(example("Larry Bird shoots in 1985", "Larry Bird", "t0", "Larry Bird"),
                example("Ada Lovelace portrait", "Ada Lovelace", "t1", "Ada Lovelace"),
                example("The Eiffel tower in Paris", "Paris", "t2", "Paris"));
        pool = new DemonstrationPool(training, new MapFeatures(Map.of("t0", feature(100), "t1", feature(101))), true);
    }

    @AfterAll
    static void close() { model.close(); }

    static MelExample example(String text, String mention, String image, String target) {
        return new MelExample(text, mention, image, MelExample.ImageKeyKind.NAME, "Q?", target);
    }

    static float[] feature(long seed) {
        Random r = new Random(seed);
        float[] f = new float[DIM_CLIP];
        for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian();
        return f;
    }

    private static Linker linker(LinkerSettings settings) {
        return Linker.forKnowledgeBase(model, tokenizer, mapper, tree, KB, settings);
    }

    private static LinkerSettings allBeams() {
        int n = KB.names().size();
        return LinkerSettings.of(new DecodingOptions(n, 32, 1.0, true, n));
    }

    @Test
    void accuracyAndPredictionsFollowTheBruteForceAnswerKey() throws IOException {
        String[][] queries = {{"Larry waves at the crowd", "Larry"}, {"Alan at Bletchley", "Alan"}, {"Paris at night", "Paris"},
                {"Hilton hotel opening", "Hilton"}, {"A portrait of Ada", "Ada"}, {"Turing award ceremony", "Turing"}};
        List<MelExample> records = new ArrayList<>();
        float[][] images = new float[queries.length][];
        List<int[]> demos = new ArrayList<>();
        List<List<Object[]>> keys = new ArrayList<>();
        for (int i = 0; i < queries.length; i++) {
            images[i] = feature(i);
            demos.add(i % 2 == 0 ? new int[] {2, 0} : new int[] {1});
            List<Object[]> ranked = bruteForce(pool.demonstrations(demos.get(i)), queries[i][0], queries[i][1], images[i]);
            keys.add(ranked);
            // the first four targets are the model's favourite names, the last two its runner-up: accuracy 4 / 6
            records.add(example(queries[i][0], queries[i][1], "q" + i, (String) ranked.get(i < 4 ? 0 : 1)[1]));
        }
        Evaluation result = Evaluation.run(linker(allBeams()), records, images, demos, pool, 1, null);

        assertEquals(6, result.evaluated());
        assertEquals(4, result.correct());
        assertEquals(4 / 6.0, result.accuracy(), 1e-12);
        for (int i = 0; i < queries.length; i++) {
            Prediction p = result.predictions().get(i);
            List<Object[]> key = keys.get(i);
            assertTrue((double) key.get(0)[0] - (double) key.get(1)[0] > 1e-4, "no near tie in record " + i);
            assertEquals(key.get(0)[1], stripSpaces(p.prediction()), "record " + i);
            assertEquals(i < 4, p.correct(), "record " + i);
            assertEquals(KB.byName((String) key.get(0)[1]).get(0).id(), p.entityId(), "first entity of the name in KB order");
            for (int k = 0; k < key.size(); k++) assertEquals((double) key.get(k)[0], p.beams().get(k).score(), 1e-4, "record " + i + " rank " + k);
        }

        List<String> lines = result.predictions().stream().map(PredictionLines::line).toList();
        assertEquals(6, lines.size());
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = json.readTree(lines.get(i));
            Prediction p = result.predictions().get(i);
            assertEquals(p.prediction(), line.get("prediction").asText());
            assertEquals(p.target(), line.get("target").asText());
            assertEquals(p.correct(), line.get("correct").asBoolean());
            assertEquals(p.entityId(), line.get("entity_id").asText());
            assertEquals(KB.names().size(), line.get("beams").size());
            assertEquals(p.beams().get(1).score(), line.get("beams").get(1).get("score").asDouble(), 0);
        }
    }

    @Test
    void sharedNamesListEveryEntityAndTheThresholdTurnsWeakAnswersToNil() {
        Linker linker = linker(allBeams());
        List<LinkQuery> queries = new ArrayList<>();
        for (int i = 0; i < 8; i++) queries.add(new LinkQuery("Picture " + i + " of Paris", i % 2 == 0 ? "Paris" : "Larry", feature(40 + i),
                pool.demonstrations(new int[] {2})));
        List<LinkResult> plain = linker.linkAll(queries, 1, null);
        for (LinkResult r : plain) {
            assertTrue(!r.nil());
            for (var beam : r.beams()) assertEquals(KB.byName(beam.name()).stream().map(KbEntity::id).toList(), beam.entityIds());
            assertTrue(r.beams().stream().anyMatch(b -> b.entityIds().equals(List.of("Q5", "Q7"))), "the shared name lists both ids");
        }
        double[] best = plain.stream().mapToDouble(r -> r.best().score()).sorted().toArray();
        double threshold = (best[3] + best[4]) / 2;
        List<LinkResult> judged = linker(new LinkerSettings(allBeams().decoding(), threshold, false)).linkAll(queries, 2, null);
        for (int i = 0; i < queries.size(); i++) {
            assertEquals(plain.get(i).best().name(), judged.get(i).best().name(), "parallel linking gives the sequential answers");
            assertEquals(plain.get(i).best().score(), judged.get(i).best().score(), 0); // the kernels round alike on every thread and JIT tier
            assertEquals(plain.get(i).best().score() < threshold, judged.get(i).nil());
            if (judged.get(i).nil()) assertNull(judged.get(i).entity());
        }
    }

    @Test
    void noImageIsLinkingWithZeroFeatures() {
        LinkQuery real = new LinkQuery("Alan at Bletchley", "Alan", feature(3), pool.demonstrations(new int[] {0, 1}));
        List<Demonstration> zeroDemos = real.demonstrations().stream()
                .map(d -> new Demonstration(d.text(), d.mention(), new float[DIM_CLIP], d.answer())).toList();
        LinkResult expected = linker(allBeams()).link(new LinkQuery(real.text(), real.mention(), new float[DIM_CLIP], zeroDemos));
        LinkResult got = linker(new LinkerSettings(allBeams().decoding(), Double.NEGATIVE_INFINITY, true)).link(real);
        assertEquals(expected.beams().stream().map(LinkedEntity::name).toList(), got.beams().stream().map(LinkedEntity::name).toList());
        for (int k = 0; k < got.beams().size(); k++) assertEquals(expected.beams().get(k).score(), got.beams().get(k).score(), 1e-5);
        LinkResult withImages = linker(allBeams()).link(real);
        assertTrue(Math.abs(withImages.best().score() - got.best().score()) > 1e-6, "the image features do change the scores");
    }

    @Test
    void featuresOfTheWrongSizeAndMissingDemoImagesAreNamed() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> linker(allBeams()).link(new LinkQuery("Alan at Bletchley", "Alan", new float[3], List.of())));
        assertTrue(e.getMessage().contains("has 3 values") && e.getMessage().contains("takes " + DIM_CLIP), e.getMessage());
        DemonstrationPool strict = new DemonstrationPool(training, new MapFeatures(Map.of()), false);
        var missing = assertThrows(IllegalArgumentException.class, () -> strict.demonstrations(new int[] {1}));
        assertTrue(missing.getMessage().contains("'t1'"), missing.getMessage());
    }

    @Test
    void aPromptWithoutRoomForItsNewTokensIsRefusedBeforeAnyRecordIsLinked() {
        int window = model.shape().maxPositions(), maxNew = 32;
        String text = textOfPromptLength(window - maxNew + 4);
        int length = promptLength(text);
        assertTrue(length < window && length + maxNew - 1 > window, "the prompt fits, its new tokens do not: " + length);
        List<MelExample> records = List.of(example("Paris by night", "Paris", "q0", "Paris"), example(text, "Paris", "q1", "Paris"));
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        var e = assertThrows(IllegalArgumentException.class, () -> Evaluation.run(linker(LinkerSettings.reference()), records,
                new float[][] {feature(1), feature(2)}, List.of(new int[0], new int[0]), pool, 1, new PrintStream(progress, true)));
        for (String part : List.of("query 1", length + " positions", maxNew + " new tokens", "max_position_embeddings " + window))
            assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
        assertEquals("", progress.toString(), "no record was linked");

        // the last generated token is never fed back: exactly window - length + 1 new tokens fit
        LinkQuery query = new LinkQuery(text, "Paris", feature(2), List.of());
        linker(LinkerSettings.of(new DecodingOptions(2, window - length + 1, 1.0, false, 1))).link(query);
        assertThrows(IllegalArgumentException.class,
                () -> linker(LinkerSettings.of(new DecodingOptions(2, window - length + 2, 1.0, false, 1))).link(query));
    }

    private static int promptLength(String text) {
        return new PromptBuilder(tokenizer, IMAGE_TOKENS).build(List.of(), text, "Paris", feature(1)).length();
    }

    /** The longest text "Paris x x ..." whose prompt (no demonstrations) takes at most {@code positions} positions. */
    private static String textOfPromptLength(int positions) {
        String text = "Paris";
        while (promptLength(text + " x") <= positions) text += " x";
        return text;
    }

    @Test
    void anIndexIsReusedOnlyForItsModelAndKnowledgeBase(@TempDir Path dir) throws IOException {
        EntityTree built = LinkIndex.build(dir, tokenizer, model.shape(), KB, null);
        EntityTree loaded = LinkIndex.tree(dir, tokenizer, model.shape(), KB, null);
        assertEquals(built.nodeCount(), loaded.nodeCount());
        for (String name : KB.names()) {
            int[] entry = EntityNames.entry(tokenizer, name, 2, 2);
            for (int n = 1; n < entry.length; n++) assertArrayEquals(tree.allowedNext(entry, n), loaded.allowedNext(entry, n), name);
        }
        KnowledgeBase other = KnowledgeBase.of(List.of(new KbEntity("Q1", "Larry Hagman", null)), "other");
        var e = assertThrows(IllegalArgumentException.class, () -> LinkIndex.tree(dir, tokenizer, model.shape(), other, null));
        assertTrue(e.getMessage().contains("another knowledge base"), e.getMessage());

        // a rebuild for another knowledge base stopped between the tree and the manifest: the manifest no longer vouches for the tree
        EntityNames.tree(tokenizer, other.names(), 2, 2, null).save(dir.resolve(LinkIndex.TREE));
        var stale = assertThrows(IllegalArgumentException.class, () -> LinkIndex.tree(dir, tokenizer, model.shape(), KB, null));
        assertTrue(stale.getMessage().contains(LinkIndex.TREE) && stale.getMessage().contains("rebuild"), stale.getMessage());
    }

    /** Every KB name with its teacher-forced score (sum of log-probabilities of its tokens and the end token over 1 + tokens), best first. */
    static List<Object[]> bruteForce(List<Demonstration> demos, String text, String mention, float[] image) {
        Prompt prompt = new PromptBuilder(tokenizer, IMAGE_TOKENS).build(demos, text, mention, image);
        float[] promptEmbeds = prompt.embeddings(model, mapper);
        int width = model.shape().inputWidth(), vocab = model.shape().vocabSize(), length = prompt.length();
        List<Object[]> out = new ArrayList<>();
        for (String name : KB.names()) {
            int[] entry = EntityNames.entry(tokenizer, name, 2, 2);
            int tokens = entry.length - 2;
            float[] input = Arrays.copyOf(promptEmbeds, (length + tokens) * width);
            for (int i = 0; i < tokens; i++) model.embed(entry[1 + i], input, (length + i) * width);
            int[] rows = new int[tokens + 1];
            for (int i = 0; i <= tokens; i++) rows[i] = length - 1 + i;
            float[] logits = model.forward(new DecoderInput(input, 1, length + tokens, null, null), model.newCache(1, length + tokens), rows);
            double sum = 0;
            for (int i = 0; i <= tokens; i++) sum += logSoftmax(logits, i * vocab, vocab, entry[1 + i]);
            out.add(new Object[] {sum / (tokens + 1), name});
        }
        out.sort(Comparator.comparingDouble((Object[] o) -> -(double) o[0]));
        return out;
    }

    private static double logSoftmax(float[] logits, int offset, int vocab, int token) {
        double max = Double.NEGATIVE_INFINITY, z = 0;
        for (int v = 0; v < vocab; v++) max = Math.max(max, logits[offset + v]);
        for (int v = 0; v < vocab; v++) z += Math.exp(logits[offset + v] - max);
        return logits[offset + token] - max - Math.log(z);
    }

    /** Python's {@code str.strip(" ")}. */
    private static String stripSpaces(String s) { return s.replaceAll("^ +| +$", ""); }

    /** Image features held in a map. */
    record MapFeatures(Map<String, float[]> byKey) implements ImageFeatures {
        @Override public int dim() { return DIM_CLIP; }
        @Override public int size() { return byKey.size(); }
        @Override public float[] find(String key) { return byKey.containsKey(key) ? byKey.get(key).clone() : null; }
        @Override public void close() {}
    }
}
