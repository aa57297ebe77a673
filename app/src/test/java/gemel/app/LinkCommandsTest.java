package gemel.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.batch.BatchRun;
import gemel.batch.ResultJournal;
import gemel.batch.ResultLine;
import gemel.batch.RunSummary;
import gemel.batch.Shard;
import gemel.data.KnowledgeBase;
import gemel.data.MelExample;
import gemel.data.MelJsonlReader;
import gemel.demos.DemosFile;
import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.NpyFile;
import gemel.engine.model.CausalLM;
import gemel.engine.model.Decoders;
import gemel.engine.model.ModelShape;
import gemel.engine.tokenizer.Tokenizer;
import gemel.eval.DemonstrationPool;
import gemel.eval.Evaluation;
import gemel.eval.Prediction;
import gemel.eval.PredictionLines;
import gemel.features.FeatureStoreWriter;
import gemel.features.ImageFeatures;
import gemel.link.DecodingOptions;
import gemel.link.EntityNames;
import gemel.link.FeatureMapper;
import gemel.link.LinkIndex;
import gemel.link.LinkedEntity;
import gemel.link.Linker;
import gemel.link.LinkerSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** {@code gemel index / link / eval} run in-process on a tiny random OPT, a small knowledge base and random image features. */
class LinkCommandsTest {
    private static final Path MODEL = Path.of(System.getProperty("gemel.root"), "core/src/test/resources/eval/tiny-opt");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DIM_CLIP = 8;

    @TempDir
    static Path dir;
    static Path kb, train, data, features, mapper, demos;

    /** What a run printed and its exit code. */
    record Run(int code, String out, String err) {}

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = new CommandLine(new GemelCli()).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @BeforeAll
    static void writeBenchmark() throws IOException {
        kb = dir.resolve("kb.jsonl");
        String[][] entities = {{"Q1", "Larry Hagman"}, {"Q2", "Larry Bird"}, {"Q3", "Ada Lovelace"}, {"Q4", "Alan Turing"}, {"Q5", "Paris"},
                {"Q6", "Paris Hilton"}};
        StringBuilder s = new StringBuilder();
        for (String[] e : entities) s.append(JSON.createObjectNode().put("id", e[0]).put("name", e[1])).append('\n');
        Files.writeString(kb, s);
        train = write("train.jsonl", new String[][] {{"Larry Bird shoots in 1985", "Larry Bird", "t0", "Q2", "Larry Bird"},
                {"Ada Lovelace portrait", "Ada Lovelace", "t1", "Q3", "Ada Lovelace"}, {"The Eiffel tower in Paris", "Paris", "t2", "Q5", "Paris"},
                {"Alan Turing in 1951", "Turing", "t3", "Q4", "Alan Turing"}});
        data = write("data.jsonl", new String[][] {{"Larry waves at the crowd", "Larry", "q0", "Q1", "Larry Hagman"},
                {"Alan at Bletchley", "Alan", "q1", "Q4", "Alan Turing"}, {"Paris at night", "Paris", "q2", "Q5", "Paris"},
                {"Hilton hotel opening", "Hilton", "q3", "Q6", "Paris Hilton"}, {"A portrait of Ada", "Ada", "q4", "Q3", "Ada Lovelace"}});
        features = dir.resolve("features.gfeat");
        try (FeatureStoreWriter w = new FeatureStoreWriter(features, DIM_CLIP)) {
            Random r = new Random(3);
            for (String key : new String[] {"t0", "t1", "t2", "t3", "q0", "q1", "q2", "q3", "q4"}) {
                float[] f = new float[DIM_CLIP];
                for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian();
                w.add(key, f);
            }
            w.commit();
        }
        mapper = dir.resolve("mapper.safetensors");
        try (CausalLM model = Decoders.load(HfConfig.load(MODEL), Checkpoint.open(MODEL))) {
            FeatureMapper.initial(model.shape(), DIM_CLIP, 2, 5).save(mapper);
        }
        demos = dir.resolve("demos.jsonl");
        DemosFile.write(demos, List.of(new int[] {2, 0}, new int[] {1}, new int[] {3, 2}, new int[] {0}, new int[] {1, 3}));
    }

    private static Path write(String name, String[][] records) throws IOException {
        StringBuilder s = new StringBuilder();
        for (String[] r : records)
            s.append(JSON.createObjectNode().put("text", r[0]).put("mention", r[1]).put("img_name", r[2]).put("golden", r[3]).put("target", r[4]))
                    .append('\n');
        Path file = dir.resolve(name);
        Files.writeString(file, s);
        return file;
    }

    private static List<JsonNode> jsonLines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) out.add(JSON.readTree(line));
        return out;
    }

    private static List<JsonNode> jsonLines(String text) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : text.split("\n")) if (!line.isBlank()) out.add(JSON.readTree(line));
        return out;
    }

    /**
     * Same beam texts and ids, scores within {@code tolerance} (0: the same bits, as the engine's kernels give for
     * the same input whether the JIT has compiled them yet or not).
     */
    private static void assertSameBeams(JsonNode expected, JsonNode actual, double tolerance) {
        JsonNode e = expected.get("beams"), a = actual.get("beams");
        assertEquals(e.size(), a.size());
        for (int k = 0; k < e.size(); k++) {
            assertEquals(e.get(k).get("text"), a.get(k).get("text"));
            assertEquals(e.get(k).get("entity_ids"), a.get(k).get("entity_ids"));
            assertEquals(e.get(k).get("score").asDouble(), a.get(k).get("score").asDouble(), tolerance);
        }
    }

    /** {@code command} with the model, mapper, KB, training file and features of the benchmark, then {@code more}. */
    private static String[] common(String command, String... more) {
        List<String> args = new ArrayList<>(List.of(command, "--model", MODEL.toString(), "--mapper", mapper.toString(), "--kb", kb.toString(),
                "--train", train.toString(), "--features", features.toString()));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void evalWithAnIndexAndADemosFileWritesWhatTheLibraryComputes() throws IOException {
        Path index = dir.resolve("index-a");
        Run built = run("index", "--model", MODEL.toString(), "--kb", kb.toString(), "--out", index.toString());
        assertEquals(0, built.code(), built.err());
        assertTrue(Files.isRegularFile(index.resolve(LinkIndex.TREE)) && Files.isRegularFile(index.resolve(LinkIndex.MANIFEST)));

        Path out = dir.resolve("predictions-a.jsonl");
        Run eval = run(common("eval", "--index", index.toString(), "--data", data.toString(), "--demos-file", demos.toString(),
                "--top-k", "3", "--out", out.toString()));
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.err().contains("linking: 5/5"), eval.err());

        List<MelExample> records = MelJsonlReader.strict().read(data).examples();
        Evaluation expected;
        try (CausalLM model = Decoders.load(HfConfig.load(MODEL), Checkpoint.open(MODEL)); ImageFeatures f = ImageFeatures.open(features)) {
            Tokenizer tok = Tokenizer.load(MODEL);
            KnowledgeBase knowledgeBase = KnowledgeBase.read(kb);
            Linker linker = Linker.forKnowledgeBase(model, tok, FeatureMapper.load(mapper, model.shape()),
                    EntityNames.tree(tok, knowledgeBase.names(), 2, 2, null), knowledgeBase,
                    LinkerSettings.of(new DecodingOptions(5, 32, 1.0, true, 3)));
            float[][] images = records.stream().map(r -> f.find(r.imageKey())).toArray(float[][]::new);
            DemonstrationPool pool = new DemonstrationPool(MelJsonlReader.strict().read(train).examples(), f, false);
            expected = Evaluation.run(linker, records, images, DemosFile.read(demos, 4), pool, 1, null);
        }
        List<JsonNode> lines = jsonLines(out);
        assertEquals(records.size(), lines.size());
        int correct = 0;
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = lines.get(i);
            Prediction p = expected.predictions().get(i);
            assertEquals(p.prediction(), line.get("prediction").asText());
            assertEquals(records.get(i).target(), line.get("target").asText());
            boolean ok = line.get("prediction").asText().strip().equals(line.get("target").asText());
            assertEquals(ok, line.get("correct").asBoolean());
            if (ok) correct++;
            assertEquals(p.entityId(), line.get("entity_id").asText());
            assertEquals(3, line.get("beams").size());
            for (int k = 0; k < 3; k++) assertEquals(p.beams().get(k).score(), line.get("beams").get(k).get("score").asDouble(), 0);
        }
        assertTrue(eval.out().contains(String.format(java.util.Locale.ROOT, "accuracy: %.2f%% (%d / 5)", 100.0 * correct / 5, correct)), eval.out());
    }

    /** A prediction as its JSON line holds it (what the line does not hold, a beam's stripped name and end, left plain). */
    private static Prediction prediction(JsonNode line) {
        List<LinkedEntity> beams = new ArrayList<>();
        for (JsonNode b : line.get("beams")) {
            List<String> ids = new ArrayList<>();
            b.get("entity_ids").forEach(id -> ids.add(id.asText()));
            beams.add(new LinkedEntity(b.get("text").asText().strip(), b.get("text").asText(), ids, b.get("score").asDouble(), true));
        }
        return new Prediction(line.get("index").asInt(), line.get("mention").asText(), line.get("golden").asText(), line.get("target").asText(),
                line.get("prediction").asText(), line.get("correct").asBoolean(), line.get("nil").asBoolean(),
                line.get("entity_id").isNull() ? null : line.get("entity_id").asText(), beams);
    }

    private static String[] with(String[] args, String... more) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void shardsRunApartMergeIntoWhatOneRunWritesAndAnInterruptedRunResumes() throws IOException {
        String[] base = common("eval", "--data", data.toString(), "--demos-file", demos.toString(), "--top-k", "2");
        Path whole = dir.resolve("whole-e.jsonl");
        Run all = run(with(base, "--out", whole.toString()));
        assertEquals(0, all.code(), all.err());
        assertTrue(Files.isRegularFile(RunSummary.fileOf(whole)) && Files.notExists(Path.of(whole + ".partial")));

        List<String> merge = new ArrayList<>(List.of("merge", "--out", dir.resolve("merged-e.jsonl").toString()));
        for (int i : new int[] {1, 0}) {
            Path part = dir.resolve("shard-e" + i + ".jsonl");
            Run r = run(with(base, "--shard", i + "/2", "--parallel", "2", "--out", part.toString())); // how many at once does not decide
            assertEquals(0, r.code(), r.err());
            assertTrue(r.err().contains("linking: " + (3 - i) + "/" + (3 - i)) && r.out().contains("shard " + i + "/2 of 5 records"), r.err() + r.out());
            assertEquals(3 - i, Files.readAllLines(part).size());
            merge.add(part.toString());
        }
        Run merged = run(merge.toArray(String[]::new));
        assertEquals(0, merged.code(), merged.err());
        assertEquals(Files.readString(whole), Files.readString(dir.resolve("merged-e.jsonl")));
        assertEquals(all.out().lines().findFirst(), merged.out().lines().findFirst(), "the same accuracy line");

        // a run stopped after linking records 4 and 1, while writing the next: its journal as the command names it
        Path resumed = dir.resolve("resumed-e.jsonl"), journalFile = Path.of(resumed + ".partial");
        String[] args = with(base, "--out", resumed.toString());
        CommandSpec spec = new CommandLine(new GemelCli()).parseArgs(args).subcommand().commandSpec();
        List<JsonNode> lines = jsonLines(whole);
        try (ResultJournal journal = ResultJournal.open(journalFile, new BatchRun(RunSettings.of(spec, EvalCommand.NOT_DECIDING), 5, Shard.WHOLE))) {
            journal.append(PredictionLines.result(prediction(lines.get(4))));
            journal.append(PredictionLines.result(prediction(lines.get(1))));
        }
        Files.writeString(journalFile, lines.get(2).toString().substring(0, 40), StandardOpenOption.APPEND);
        String interrupted = Files.readString(journalFile);

        Run other = run(with(common("eval", "--data", data.toString(), "--demos-file", demos.toString(), "--top-k", "2", "--beams", "3"),
                "--out", resumed.toString()));
        assertEquals(1, other.code());
        assertTrue(other.err().contains("--beams: 5 there, 3 here") && other.err().contains("delete it"), other.err());
        assertEquals(interrupted, Files.readString(journalFile), "a journal of other settings is left as it was");

        Run again = run(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("resuming: 2 of the 5 records already linked") && again.err().contains("linking: 3/3"), again.err());
        assertEquals(Files.readString(whole), Files.readString(resumed));
        assertEquals(all.out().lines().findFirst(), again.out().lines().findFirst());
        assertTrue(Files.notExists(journalFile));
    }

    @Test
    void retrievedDemonstrationsAreCachedSavedAndReplayable() throws IOException {
        Path index = dir.resolve("index-b");
        Run built = run("index", "--model", MODEL.toString(), "--kb", kb.toString(), "--train", train.toString(), "--out", index.toString());
        assertEquals(0, built.code(), built.err());
        try (var cached = Files.list(index.resolve(LinkIndex.EMBEDDINGS))) {
            assertEquals(1, cached.count(), "the training mentions' embeddings are cached in the index");
        }
        Path saved = dir.resolve("saved-demos.jsonl"), a = dir.resolve("predictions-b1.jsonl"), b = dir.resolve("predictions-b2.jsonl");
        Run retrieved = run(common("eval", "--index", index.toString(), "--data", data.toString(), "--demos", "2", "--limit", "3",
                "--save-demos", saved.toString(), "--out", a.toString()));
        assertEquals(0, retrieved.code(), retrieved.err());
        assertTrue(retrieved.err().contains("embeddings: reusing"), retrieved.err());
        List<int[]> used = DemosFile.read(saved, 4);
        assertEquals(3, used.size());
        for (int[] d : used) assertEquals(2, d.length);
        Run replayed = run(common("eval", "--index", index.toString(), "--data", data.toString(), "--demos-file", saved.toString(),
                "--limit", "3", "--out", b.toString()));
        assertEquals(0, replayed.code(), replayed.err());
        List<JsonNode> first = jsonLines(a), second = jsonLines(b);
        assertEquals(3, second.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(first.get(i).get("prediction"), second.get(i).get("prediction"));
            assertSameBeams(first.get(i), second.get(i), 0);
        }
    }

    @Test
    void linkOneMentionOrAFileAgreesWithEval() throws IOException {
        Path out = dir.resolve("predictions-c.jsonl");
        assertEquals(0, run(common("eval", "--data", data.toString(), "--demos", "0", "--top-k", "2", "--out", out.toString())).code());
        List<JsonNode> evaluated = jsonLines(out);

        Run one = run(common("link", "--demos", "0", "--top-k", "2", "--text", "Paris at night", "--mention", "Paris", "--image", "q2", "--json"));
        assertEquals(0, one.code(), one.err());
        JsonNode answer = jsonLines(one.out()).get(0);
        assertEquals(evaluated.get(2).get("prediction"), answer.get("prediction"));
        assertEquals(evaluated.get(2).get("entity_id"), answer.get("entity_id"));
        assertSameBeams(evaluated.get(2), answer, 0);

        Path input = dir.resolve("mentions.jsonl");
        Files.writeString(input, "{\"text\": \"Larry waves at the crowd\", \"mention\": \"Larry\", \"image\": \"q0\"}\n"
                + "{\"text\": \"A portrait of Ada\", \"mention\": \"Ada\", \"img_name\": \"q4\"}\n");
        Run many = run(common("link", "--demos", "0", "--top-k", "2", "--input", input.toString(), "--json", "--parallel", "2"));
        assertEquals(0, many.code(), many.err());
        List<JsonNode> answers = jsonLines(many.out());
        assertEquals(2, answers.size());
        assertSameBeams(evaluated.get(0), answers.get(0), 0);
        assertSameBeams(evaluated.get(4), answers.get(1), 0);

        Run text = run(common("link", "--demos", "0", "--text", "Paris at night", "--mention", "Paris", "--image", "q2"));
        assertEquals("Paris -> " + evaluated.get(2).get("prediction").asText().strip() + " [" + evaluated.get(2).get("entity_id").asText() + "]",
                text.out().substring(0, text.out().indexOf(" score")));
    }

    /** {@code link --input --out}: the --json lines with their index, in input order; shards merged and a resumed run as one run writes them. */
    @Test
    void aFileOfMentionsLinkedToAnOutputShardsAndResumes() throws IOException {
        Path input = dir.resolve("mentions-f.jsonl");
        StringBuilder lines = new StringBuilder();
        for (String[] r : new String[][] {{"Larry waves at the crowd", "Larry", "q0"}, {"Alan at Bletchley", "Alan", "q1"},
                {"Paris at night", "Paris", "q2"}, {"Hilton hotel opening", "Hilton", "q3"}, {"A portrait of Ada", "Ada", "q4"}})
            lines.append(JSON.createObjectNode().put("text", r[0]).put("mention", r[1]).put("image", r[2])).append('\n');
        Files.writeString(input, lines);
        String[] base = common("link", "--demos", "2", "--top-k", "2", "--input", input.toString());
        Run printed = run(with(base, "--json"));
        assertEquals(0, printed.code(), printed.err());
        List<JsonNode> expected = jsonLines(printed.out());

        Path whole = dir.resolve("linked-f.jsonl");
        Run all = run(with(base, "--out", whole.toString()));
        assertEquals(0, all.code(), all.err());
        assertTrue(all.out().contains("linked 5 mentions"), all.out());
        List<JsonNode> written = jsonLines(whole);
        assertEquals(5, written.size());
        for (int k = 0; k < 5; k++) {
            assertEquals(k, written.get(k).get("index").asInt());
            ObjectNode withoutIndex = written.get(k).deepCopy();
            withoutIndex.remove("index");
            assertEquals(expected.get(k), withoutIndex, "mention " + k + " as --json prints it");
        }

        List<String> merge = new ArrayList<>(List.of("merge", "--out", dir.resolve("merged-f.jsonl").toString()));
        for (int i = 0; i < 3; i++) {
            Path part = dir.resolve("linked-f" + i + ".jsonl");
            Run r = run(with(base, "--shard", i + "/3", "--out", part.toString()));
            assertEquals(0, r.code(), r.err());
            merge.add(part.toString());
        }
        Run merged = run(merge.toArray(String[]::new));
        assertEquals(0, merged.code(), merged.err());
        assertTrue(merged.out().contains("merged 5 results of 3 shards") && !merged.out().contains("accuracy"), merged.out());
        assertEquals(Files.readString(whole), Files.readString(dir.resolve("merged-f.jsonl")));
        Path evalShard = dir.resolve("eval-f1.jsonl");
        assertEquals(0, run(common("eval", "--data", data.toString(), "--demos", "2", "--top-k", "2", "--shard", "1/3", "--out", evalShard.toString())).code());
        Run mixed = run("merge", "--out", dir.resolve("never-f.jsonl").toString(), merge.get(3), evalShard.toString(), merge.get(5));
        assertEquals(1, mixed.code());
        assertTrue(mixed.err().contains("is not a shard of the job of") && mixed.err().contains("command: gemel link there, gemel eval here"), mixed.err());

        // a run stopped after mention 3: the same command resumes and links the other four
        Path resumed = dir.resolve("resumed-f.jsonl");
        String[] args = with(base, "--out", resumed.toString());
        CommandSpec spec = new CommandLine(new GemelCli()).parseArgs(args).subcommand().commandSpec();
        try (ResultJournal journal = ResultJournal.open(Path.of(resumed + ".partial"), new BatchRun(RunSettings.of(spec, LinkCommand.NOT_DECIDING), 5, Shard.WHOLE))) {
            journal.append(new ResultLine(3, Files.readAllLines(whole).get(3), null));
        }
        Run again = run(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("resuming: 1 of the 5 mentions already linked") && again.err().contains("linking: 4/4"), again.err());
        assertEquals(Files.readString(whole), Files.readString(resumed));

        // more mentions than one chunk of an --out run holds at once: each line still answers its own mention
        Path many = dir.resolve("mentions-many.jsonl");
        Files.writeString(many, lines.toString().repeat(206)); // 1,030 mentions
        Path manyOut = dir.resolve("linked-many.jsonl");
        Run chunked = run(with(common("link", "--demos", "0", "--input", many.toString()), "--out", manyOut.toString()));
        assertEquals(0, chunked.code(), chunked.err());
        List<JsonNode> five = jsonLines(run(common("link", "--demos", "0", "--input", input.toString(), "--json")).out());
        List<JsonNode> linked = jsonLines(manyOut);
        assertEquals(1030, linked.size());
        for (int k = 0; k < linked.size(); k++) {
            assertEquals(k, linked.get(k).get("index").asInt());
            assertEquals(five.get(k % 5).get("mention"), linked.get(k).get("mention"), "line " + k);
            assertSameBeams(five.get(k % 5), linked.get(k), 0);
        }

        Run stray = run(common("link", "--demos", "0", "--text", "Paris at night", "--mention", "Paris", "--image", "q2", "--out", "x.jsonl"));
        assertEquals(1, stray.code());
        assertTrue(stray.err().contains("--out goes with --input"), stray.err());
    }

    @Test
    void anImageFileEncodedByClipLinksAsItsPyTorchFeatureDoes() throws IOException {
        Path vision = Path.of(System.getProperty("gemel.root"), "engine/src/test/resources/vision");
        float[] pooled = NpyFile.read(vision.resolve("tiny_clip_pooled.npy")).floats(); // [3, 32]: images 1097, 13295, 3030
        Path clipFeatures = dir.resolve("clip.gfeat"), clipMapper = dir.resolve("clip-mapper.safetensors");
        try (FeatureStoreWriter w = new FeatureStoreWriter(clipFeatures, 32)) {
            w.add("1097", Arrays.copyOf(pooled, 32));
            w.commit();
        }
        try (CausalLM model = Decoders.load(HfConfig.load(MODEL), Checkpoint.open(MODEL))) {
            FeatureMapper.initial(model.shape(), 32, 2, 9).save(clipMapper);
        }
        String[] base = {"link", "--model", MODEL.toString(), "--mapper", clipMapper.toString(), "--kb", kb.toString(), "--top-k", "3",
                "--json", "--text", "Larry waves at the crowd", "--mention", "Larry"};
        Run byKey = run(concat(base, "--features", clipFeatures.toString(), "--image", "1097"));
        Run byFile = run(concat(base, "--clip", vision.resolve("tiny-clip").toString(),
                "--image", Path.of(System.getProperty("gemel.shared"), "data/wikimel/images/1097.jpg").toString()));
        assertEquals(0, byKey.code(), byKey.err());
        assertEquals(0, byFile.code(), byFile.err());
        // gemel's CLIP features match PyTorch's to ~1e-6, which moves the scores by about as much
        assertSameBeams(jsonLines(byKey.out()).get(0), jsonLines(byFile.out()).get(0), 1e-5);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void badInputsAreNamedAndWriteNothing() throws IOException {
        Run missingKey = run(common("link", "--demos", "0", "--text", "Paris at night", "--mention", "Paris", "--image", "nowhere.jpg"));
        assertEquals(1, missingKey.code());
        assertTrue(missingKey.err().contains("no image feature for 'nowhere.jpg'"), missingKey.err());

        Path badData = write("bad-data.jsonl", new String[][] {{"Paris at night", "Paris", "q2", "Q5", "Paris"}, {"Lost", "Lost", "gone.jpg", "Q1", "Larry Hagman"}});
        Path out = dir.resolve("never.jsonl");
        Run missingRecord = run(common("eval", "--data", badData.toString(), "--demos", "0", "--out", out.toString()));
        assertEquals(1, missingRecord.code());
        assertTrue(missingRecord.err().contains("gone.jpg"), missingRecord.err());
        assertTrue(Files.notExists(out));
        Run skipped = run(common("eval", "--data", badData.toString(), "--demos", "0", "--missing-features", "SKIP_RECORD", "--out", out.toString()));
        assertEquals(0, skipped.code(), skipped.err());
        assertEquals(1, Files.readAllLines(out).size());

        Path otherMapper = dir.resolve("other-mapper.safetensors");
        FeatureMapper.initial(new ModelShape("OPTForCausalLM", 661, 24, 24, 1, 1, 1, 24, 64, 2, 2, 1), DIM_CLIP, 2, 1).save(otherMapper);
        Run wrongMapper = run("link", "--model", MODEL.toString(), "--mapper", otherMapper.toString(), "--kb", kb.toString(),
                "--features", features.toString(), "--text", "Paris at night", "--mention", "Paris", "--image", "q2");
        assertEquals(1, wrongMapper.code());
        assertTrue(wrongMapper.err().contains("feature mapper") && wrongMapper.err().contains("input width 24"), wrongMapper.err());
        Path freshTrain = Files.createDirectories(dir.resolve("fresh")).resolve("train.jsonl");
        Files.copy(train, freshTrain);
        Run wrongMapperEval = run("eval", "--model", MODEL.toString(), "--mapper", otherMapper.toString(), "--kb", kb.toString(),
                "--features", features.toString(), "--train", freshTrain.toString(), "--data", data.toString(), "--demos", "2", "--out", out.toString());
        assertEquals(1, wrongMapperEval.code());
        assertTrue(wrongMapperEval.err().contains("input width 24"), wrongMapperEval.err());
        assertTrue(Files.notExists(freshTrain.resolveSibling("embeddings")), "refused before embedding the training mentions");

        Path longDemos = dir.resolve("demos-of-another-file.jsonl");
        DemosFile.write(longDemos, List.of(new int[] {0}, new int[] {1}, new int[] {2}, new int[] {3}, new int[] {0}, new int[] {1}));
        Path notWritten = dir.resolve("not-written.jsonl");
        Run mismatched = run(common("eval", "--data", data.toString(), "--demos-file", longDemos.toString(), "--out", notWritten.toString()));
        assertEquals(1, mismatched.code());
        assertTrue(mismatched.err().contains("6 lines") && mismatched.err().contains("5 records"), mismatched.err());
        assertTrue(Files.notExists(notWritten));

        Path nowhere = dir.resolve("no-such-kb.jsonl");
        Run missingKb = run("link", "--model", MODEL.toString(), "--mapper", mapper.toString(), "--kb", nowhere.toString(),
                "--features", features.toString(), "--text", "Paris at night", "--mention", "Paris", "--image", "q2");
        assertEquals(1, missingKb.code());
        assertTrue(missingKb.err().contains("no such file: " + nowhere), missingKb.err());
        Path notAFolder = dir.resolve("out-is-a-file");
        Files.writeString(notAFolder, "");
        Run unwritable = run(common("eval", "--data", data.toString(), "--demos", "0", "--out", notAFolder.resolve("p.jsonl").toString()));
        assertEquals(1, unwritable.code());
        assertTrue(unwritable.err().contains("gemel eval: cannot write " + notAFolder.resolve("p.jsonl")), unwritable.err());
        Run noFolder = run(common("eval", "--data", data.toString(), "--demos", "0", "--out", dir.resolve("no/such/folder/p.jsonl").toString()));
        assertEquals(1, noFolder.code());
        assertTrue(noFolder.err().contains("p.jsonl.partial: its folder does not exist"), noFolder.err());

        Path index = dir.resolve("index-d");
        Path smallKb = dir.resolve("small-kb.txt");
        Files.writeString(smallKb, "Paris\nLarry Bird\n");
        assertEquals(0, run("index", "--model", MODEL.toString(), "--kb", smallKb.toString(), "--out", index.toString()).code());
        Run wrongIndex = run(common("link", "--index", index.toString(), "--demos", "0", "--text", "Paris at night", "--mention", "Paris", "--image", "q2"));
        assertEquals(1, wrongIndex.code());
        assertTrue(wrongIndex.err().contains("another knowledge base"), wrongIndex.err());
    }

    /**
     * Records to evaluate with a malformed line (2), a line without 'golden' (4), a NIL record (5) and a mention not
     * verbatim in its text (6).
     */
    private static Path untidyData() throws IOException {
        Path file = dir.resolve("untidy.jsonl");
        Files.writeString(file, String.join("\n",
                "{\"text\": \"Larry waves at the crowd\", \"mention\": \"Larry\", \"img_name\": \"q0\", \"golden\": \"Q1\", \"target\": \"Larry Hagman\"}",
                "{\"text\": \"Alan at Bletchley\", \"mention\": ",
                "{\"text\": \"Alan at Bletchley\", \"mention\": \"Alan\", \"img_name\": \"q1\", \"golden\": \"Q4\", \"target\": \"Alan Turing\"}",
                "{\"text\": \"Paris at night\", \"mention\": \"Paris\", \"img_name\": \"q2\", \"target\": \"Paris\"}",
                "{\"text\": \"A stranger at the door\", \"mention\": \"stranger\", \"img_name\": \"q3\", \"golden\": \"NIL\", \"target\": \"NIL\"}",
                "{\"text\": \"A portrait of Ada\", \"mention\": \"Lovelace\", \"img_name\": \"q4\", \"golden\": \"Q3\", \"target\": \"Ada Lovelace\"}")
                + "\n");
        return file;
    }

    @Test
    void badLinesRefuseTheFileByDefaultNamingTheirLines() throws IOException {
        Path out = dir.resolve("predictions-refused.jsonl");
        Run eval = run(common("eval", "--data", untidyData().toString(), "--demos", "0", "--out", out.toString()));
        assertEquals(1, eval.code(), eval.err());
        assertTrue(eval.err().contains("2 bad line(s)"), eval.err());
        assertTrue(eval.err().contains("1 x malformed JSON at line 2"), eval.err());
        assertTrue(eval.err().contains("line 4: missing text field 'golden'"), eval.err());
        assertTrue(Files.notExists(out));

        Run typo = run(common("eval", "--data", untidyData().toString(), "--bad-lines", "ignore", "--out", out.toString()));
        assertEquals(2, typo.code());
        assertTrue(typo.err().contains("expected reject or skip, got 'ignore'"), typo.err());
    }

    @Test
    void skippedBadLinesAndDroppedNilRecordsAreReported() throws IOException {
        Path out = dir.resolve("predictions-skip.jsonl");
        Run eval = run(common("eval", "--data", untidyData().toString(), "--bad-lines", "SKIP", "--demos", "0", "--out", out.toString()));
        assertEquals(0, eval.code(), eval.err());
        for (String reported : new String[] {"6 lines, 3 records kept", "1 x malformed JSON at line 2", "1 x missing or non-text required field at line 4",
                "1 x NIL gold, dropped at line 5", "1 x mention not verbatim in text (kept) at line 6"})
            assertTrue(eval.err().contains(reported), reported + " in:\n" + eval.err());
        assertEquals(List.of("Larry", "Alan", "Lovelace"), jsonLines(out).stream().map(l -> l.get("mention").asText()).toList());
    }

    @Test
    void keptNilRecordsAreEvaluatedInOrderAndRightOnlyWhenTheAnswerIsNil() throws IOException {
        Path out = dir.resolve("predictions-nil.jsonl");
        Run eval = run(common("eval", "--data", untidyData().toString(), "--bad-lines", "skip", "--keep-nil", "--demos", "0", "--out", out.toString()));
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.err().contains("6 lines, 4 records kept"), eval.err());
        List<JsonNode> lines = jsonLines(out);
        assertEquals(List.of("Larry", "Alan", "stranger", "Lovelace"), lines.stream().map(l -> l.get("mention").asText()).toList());
        JsonNode nil = lines.get(2);
        assertEquals("NIL", nil.get("golden").asText());
        // the tree only lets knowledge-base names out and no threshold is set: the answer is an entity, so wrong
        assertTrue(!nil.get("nil").asBoolean() && !nil.get("correct").asBoolean(), nil.toString());

        // mean log-probabilities are negative: a threshold of 1 makes every answer NIL
        Path allNil = dir.resolve("predictions-all-nil.jsonl");
        Run thresholded = run(common("eval", "--data", untidyData().toString(), "--bad-lines", "skip", "--keep-nil", "--demos", "0",
                "--nil-threshold", "1", "--out", allNil.toString()));
        assertEquals(0, thresholded.code(), thresholded.err());
        List<JsonNode> answers = jsonLines(allNil);
        assertTrue(answers.get(2).get("nil").asBoolean() && answers.get(2).get("correct").asBoolean(), answers.get(2).toString());
        long correct = answers.stream().filter(l -> l.get("correct").asBoolean()).count();
        assertTrue(thresholded.out().contains("(" + correct + " / 4)"), thresholded.out());
    }

    @Test
    void keepNilIsRefusedWhereRecordsAreOnlyTrainedOnOrShown() {
        Run training = run("train", "--model", MODEL.toString(), "--train", train.toString(), "--features", features.toString(), "--kb", kb.toString(),
                "--out", dir.resolve("run-nil").toString(), "--keep-nil");
        assertEquals(1, training.code());
        assertTrue(training.err().contains("--keep-nil does not apply here: a NIL record names no entity to train on"), training.err());
        Run link = run(common("link", "--keep-nil", "--text", "Paris at night", "--mention", "Paris", "--image", "q2"));
        assertEquals(1, link.code());
        assertTrue(link.err().contains("--keep-nil does not apply here"), link.err());
        assertTrue(Files.notExists(dir.resolve("run-nil")));
    }

    @Test
    void demosForKeptNilQueriesStayAlignedWithTheEvaluatedRecords() throws IOException {
        Path demosFile = dir.resolve("demos-nil.jsonl");
        Run demos = run("convert", "demos", "--train", train.toString(), "--queries", untidyData().toString(), "-n", "2", "--bad-lines", "skip",
                "--keep-nil", "--cache", dir.resolve("cache-nil").toString(), "--out", demosFile.toString());
        assertEquals(0, demos.code(), demos.err());
        assertEquals(4, DemosFile.read(demosFile, 4).size(), "one line per kept query, the NIL record's included");
        Path out = dir.resolve("predictions-nil-demos.jsonl");
        Run eval = run(common("eval", "--data", untidyData().toString(), "--bad-lines", "skip", "--keep-nil", "--demos-file", demosFile.toString(),
                "--out", out.toString()));
        assertEquals(0, eval.code(), eval.err());
        assertEquals(4, jsonLines(out).size());

        Run noQueries = run("convert", "demos", "--train", train.toString(), "--keep-nil", "--out", dir.resolve("demos-refused.jsonl").toString());
        assertEquals(1, noQueries.code());
        assertTrue(noQueries.err().contains("without --queries the training records"), noQueries.err());
    }
}
