package gemel.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.app.serve.LinkServer;
import gemel.data.KnowledgeBase;
import gemel.data.MelExample;
import gemel.data.MelJsonlReader;
import gemel.demos.DemoRetriever;
import gemel.demos.OnnxSentenceEncoder;
import gemel.demos.SentenceEncoder;
import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.NpyFile;
import gemel.engine.model.CausalLM;
import gemel.engine.model.Decoders;
import gemel.engine.tokenizer.Tokenizer;
import gemel.features.FeatureStoreWriter;
import gemel.link.DecodingOptions;
import gemel.link.Demonstration;
import gemel.link.EntityNames;
import gemel.link.FeatureMapper;
import gemel.link.LinkQuery;
import gemel.link.LinkResult;
import gemel.link.LinkedEntity;
import gemel.link.Linker;
import gemel.link.LinkerSettings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code gemel serve} in-process on port 0 with the tiny random OPT, the tiny CLIP and a 32-wide feature mapper, asked
 * over loopback: answers must be what a {@link Linker} assembled here independently returns for the same query.
 */
class ServeCommandTest {
    private static final Path MODEL = Path.of(System.getProperty("gemel.root"), "core/src/test/resources/eval/tiny-opt");
    private static final Path VISION = Path.of(System.getProperty("gemel.root"), "engine/src/test/resources/vision");
    private static final Path IMAGES = Path.of(System.getProperty("gemel.shared"), "data/wikimel/images");
    /** The images of tiny_clip_pooled.npy [3, 32], in its row order. */
    private static final String[] KEYS = {"1097", "13295", "3030"};
    private static final int DIM_CLIP = 32;
    /** Kernels give results a last fp32 bit apart before and after the JIT compiles them; CLIP features match PyTorch's to ~1e-6. */
    private static final double SCORE_NOISE = 1e-5;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static Path kb, features, mapper;
    static float[][] pooled;
    static LinkSession session;
    static LinkServer server;
    static HttpClient http;

    /** A reply: status and JSON body. */
    record Reply(int status, JsonNode body) {}

    @BeforeAll
    static void start() throws IOException {
        kb = dir.resolve("kb.jsonl");
        StringBuilder s = new StringBuilder();
        String[][] entities = {{"Q1", "Larry Hagman"}, {"Q2", "Larry Bird"}, {"Q3", "Ada Lovelace"}, {"Q4", "Alan Turing"}, {"Q5", "Paris"},
                {"Q6", "Paris Hilton"}, {"Q7", "Paris"}};
        for (String[] e : entities) s.append(JSON.createObjectNode().put("id", e[0]).put("name", e[1])).append('\n');
        Files.writeString(kb, s);
        float[] rows = NpyFile.read(VISION.resolve("tiny_clip_pooled.npy")).floats();
        pooled = new float[KEYS.length][];
        features = dir.resolve("features.gfeat");
        try (FeatureStoreWriter w = new FeatureStoreWriter(features, DIM_CLIP)) {
            for (int i = 0; i < KEYS.length; i++) w.add(KEYS[i], pooled[i] = Arrays.copyOfRange(rows, i * DIM_CLIP, (i + 1) * DIM_CLIP));
            w.commit();
        }
        mapper = dir.resolve("mapper.safetensors");
        try (CausalLM model = Decoders.load(HfConfig.load(MODEL), Checkpoint.open(MODEL))) {
            FeatureMapper.initial(model.shape(), DIM_CLIP, 2, 9).save(mapper);
        }
        ServeCommand command = command("--parallel", "2", "--queue", "16", "--max-batch", "8", "--max-body", "200000");
        session = command.openSession();
        server = LinkServer.start(session, command.settings(), System.err);
        http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    }

    @AfterAll
    static void stop() throws IOException {
        if (server != null) server.close();
        if (session != null) session.close();
    }

    /** A serve command over the test's model, mapper, knowledge base, features and CLIP, on a free loopback port. */
    private static ServeCommand command(String... more) {
        List<String> args = new ArrayList<>(List.of("--model", MODEL.toString(), "--mapper", mapper.toString(), "--kb", kb.toString(),
                "--features", features.toString(), "--clip", VISION.resolve("tiny-clip").toString(), "--demos", "0", "--port", "0"));
        args.addAll(List.of(more));
        ServeCommand command = new ServeCommand();
        new CommandLine(command).setOverwrittenOptionsAllowed(true).parseArgs(args.toArray(String[]::new));
        return command;
    }

    private static Reply send(LinkServer to, String method, String path, String body) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(to.uri().resolve(path)).timeout(TIMEOUT);
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            boolean isJson = r.headers().firstValue("Content-Type").orElse("").startsWith("application/json");
            return new Reply(r.statusCode(), isJson ? JSON.readTree(r.body()) : JSON.getNodeFactory().textNode(r.body()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static Reply post(String path, Object body) throws IOException {
        return send(server, "POST", path, body instanceof String text ? text : JSON.writeValueAsString(body));
    }

    private static ObjectNode query(String text, String mention, String imageKey) {
        ObjectNode q = JSON.createObjectNode().put("text", text).put("mention", mention);
        return imageKey == null ? q : q.put("image_key", imageKey);
    }

    /** What a linker returning {@code keep} beams answers, assembled here from the model folder, the mapper file and the features. */
    private static List<LinkResult> expected(int keep, List<LinkQuery> queries) throws IOException {
        try (CausalLM model = Decoders.load(HfConfig.load(MODEL), Checkpoint.open(MODEL))) {
            Tokenizer tokenizer = Tokenizer.load(MODEL);
            KnowledgeBase knowledgeBase = KnowledgeBase.read(kb);
            Linker linker = Linker.forKnowledgeBase(model, tokenizer, FeatureMapper.load(mapper, model.shape()),
                    EntityNames.tree(tokenizer, knowledgeBase.names(), 2, 2, null), knowledgeBase,
                    LinkerSettings.of(new DecodingOptions(5, 32, 1.0, true, keep)));
            return queries.stream().map(linker::link).toList();
        }
    }

    private static void assertAnswer(LinkResult expected, JsonNode answer, double tolerance) {
        assertEquals(expected.nil(), answer.get("nil").asBoolean());
        if (expected.nil()) assertTrue(answer.get("entity").isNull(), answer.toString());
        else {
            assertEquals(expected.best().name(), answer.get("entity").get("name").asText());
            assertEquals(expected.best().entityId(), answer.get("entity").get("id").asText());
            assertEquals(expected.best().score(), answer.get("entity").get("score").asDouble(), tolerance);
        }
        JsonNode beams = answer.get("beams");
        assertEquals(expected.beams().size(), beams.size(), answer.toString());
        for (int k = 0; k < beams.size(); k++) {
            LinkedEntity e = expected.beams().get(k);
            JsonNode b = beams.get(k);
            assertEquals(e.name(), b.get("name").asText());
            assertEquals(e.text(), b.get("text").asText());
            assertEquals(e.entityIds(), JSON.convertValue(b.get("entity_ids"), List.class));
            assertEquals(e.score(), b.get("score").asDouble(), tolerance);
            assertEquals(e.ended(), b.get("ended").asBoolean());
        }
        assertTrue(answer.get("elapsed_ms").asDouble() >= 0, answer.toString());
    }

    /** Same entity, beam names and ids; scores within the noise. */
    private static void assertSameAnswer(JsonNode expected, JsonNode actual) {
        assertEquals(expected.get("entity").path("id"), actual.get("entity").path("id"));
        assertEquals(expected.get("beams").size(), actual.get("beams").size());
        for (int k = 0; k < expected.get("beams").size(); k++) {
            JsonNode e = expected.get("beams").get(k), a = actual.get("beams").get(k);
            assertEquals(e.get("name"), a.get("name"));
            assertEquals(e.get("entity_ids"), a.get("entity_ids"));
            assertEquals(e.get("score").asDouble(), a.get("score").asDouble(), SCORE_NOISE);
        }
        assertEquals(expected.get("warnings").size(), actual.get("warnings").size());
    }

    private static final String[][] MENTIONS = {{"Larry waves at the crowd", "Larry"}, {"Paris at night", "Paris"}, {"A portrait of Ada", "Ada"}};

    @Test
    void anAnswerIsWhatTheLinkerReturns() throws IOException {
        List<LinkQuery> queries = new ArrayList<>();
        List<JsonNode> answers = new ArrayList<>();
        for (int i = 0; i < MENTIONS.length; i++) {
            queries.add(new LinkQuery(MENTIONS[i][0], MENTIONS[i][1], pooled[i], List.of()));
            Reply r = post("/v1/link", query(MENTIONS[i][0], MENTIONS[i][1], KEYS[i]).put("top_k", 3));
            assertEquals(200, r.status(), r.body().toString());
            answers.add(r.body());
            assertEquals(0, r.body().get("warnings").size(), r.body().toString());
        }
        List<LinkResult> expected = expected(3, queries);
        for (int i = 0; i < answers.size(); i++) assertAnswer(expected.get(i), answers.get(i), SCORE_NOISE);

        // top_k defaults to --top-k (1), and the one beam is the linker's best
        Reply one = post("/v1/link", query(MENTIONS[1][0], MENTIONS[1][1], KEYS[1]));
        assertEquals(200, one.status());
        assertAnswer(expected(1, queries.subList(1, 2)).get(0), one.body(), SCORE_NOISE);
    }

    @Test
    void anUploadedImageLinksAsItsStoredFeature() throws IOException {
        for (int i = 0; i < 2; i++) {
            byte[] jpeg = Files.readAllBytes(IMAGES.resolve(KEYS[i] + ".jpg"));
            String encoded = i == 0 ? Base64.getEncoder().encodeToString(jpeg) : "data:image/jpeg;base64," + Base64.getMimeEncoder().encodeToString(jpeg);
            Reply byUpload = post("/v1/link", query(MENTIONS[i][0], MENTIONS[i][1], null).put("image_base64", encoded).put("top_k", 3));
            Reply byKey = post("/v1/link", query(MENTIONS[i][0], MENTIONS[i][1], KEYS[i]).put("top_k", 3));
            assertEquals(200, byUpload.status(), byUpload.body().toString());
            assertEquals(200, byKey.status(), byKey.body().toString());
            assertSameAnswer(byKey.body(), byUpload.body());
        }
    }

    @Test
    void aBatchAnswersAsSinglesDoInOrder() throws IOException {
        ArrayNode batch = JSON.createArrayNode();
        List<JsonNode> singles = new ArrayList<>();
        for (int i = MENTIONS.length - 1; i >= 0; i--) {
            ObjectNode q = query(MENTIONS[i][0], MENTIONS[i][1], KEYS[i]).put("top_k", 2);
            batch.add(q);
            singles.add(post("/v1/link", q).body());
        }
        batch.add(query("Paris at night", "Larry", KEYS[0]));
        singles.add(post("/v1/link", batch.get(3)).body());
        Reply r = post("/v1/link/batch", batch);
        assertEquals(200, r.status(), r.body().toString());
        JsonNode results = r.body().get("results");
        assertEquals(4, results.size());
        for (int i = 0; i < 4; i++) assertSameAnswer(singles.get(i), results.get(i));
        assertEquals(List.of("mention: 'Larry' does not occur in the text"), JSON.convertValue(singles.get(3).get("warnings"), List.class));
        assertEquals(List.of("[3].mention: 'Larry' does not occur in the text"), JSON.convertValue(results.get(3).get("warnings"), List.class));
        Reply wrapped = post("/v1/link/batch", JSON.createObjectNode().set("items", batch));
        assertEquals(200, wrapped.status(), wrapped.body().toString());
        for (int i = 0; i < 3; i++) assertSameAnswer(singles.get(i), wrapped.body().get("results").get(i));
    }

    @Test
    void badRequestsGetTheirStatusAndNameTheField() throws IOException {
        String ok = "\"text\": \"Paris at night\", \"mention\": \"Paris\"";
        Object[][] cases = {
                {"/v1/link", "{\"text\": \"Paris", 400, "body", "malformed JSON"},
                {"/v1/link", "", 400, "body", "empty"},
                {"/v1/link", "{" + ok + ", \"image_key\": \"1097\"} {}", 400, "body", "malformed JSON"},
                {"/v1/link", "{" + ok + ", \"image_key\": \"1097\", \"mention\": \"night\"}", 400, "body", "Duplicate field 'mention'"},
                {"/v1/link", "[1, 2]", 400, "body", "expected a JSON object"},
                {"/v1/link", "{\"text\": \"Paris at night\", \"image_key\": \"1097\"}", 400, "mention", "missing field 'mention'"},
                {"/v1/link", "{\"text\": 7, \"mention\": \"Paris\", \"image_key\": \"1097\"}", 400, "text", "must be a string"},
                {"/v1/link", "{" + ok + ", \"image_key\": \"1097\", \"imageKey\": \"x\"}", 400, "imageKey", "unknown field"},
                {"/v1/link", "{" + ok + ", \"image_key\": \"1097\", \"top_k\": 0}", 400, "top_k", "1..5"},
                {"/v1/link", "{" + ok + ", \"image_key\": \"1097\", \"top_k\": 6}", 400, "top_k", "1..5"},
                {"/v1/link", "{" + ok + ", \"image_key\": \"1097\", \"top_k\": 1.5}", 400, "top_k", "integer"},
                {"/v1/link", "{" + ok + "}", 400, "image_key", "an image is required"},
                {"/v1/link", "{" + ok + ", \"image_key\": \"nowhere.jpg\"}", 400, "image_key", "no image feature for 'nowhere.jpg'"},
                {"/v1/link", "{" + ok + ", \"image_key\": \"1097\", \"image_base64\": \"AAAA\"}", 400, "image_base64", "not both"},
                {"/v1/link", "{" + ok + ", \"image_base64\": \"@@not base64@@\"}", 400, "image_base64", "not valid base64"},
                {"/v1/link", "{" + ok + ", \"image_base64\": \"" + Base64.getEncoder().encodeToString("just some text".getBytes()) + "\"}",
                        400, "image_base64", "not an image"},
                {"/v1/link/batch", "[]", 400, "body", "empty"},
                {"/v1/link/batch", "{\"mention\": \"Paris\"}", 400, "body", "JSON array"},
                {"/v1/link/batch", "[{" + ok + ", \"image_key\": \"1097\"}, {\"text\": \"Paris at night\", \"image_key\": \"1097\"}]", 400, "[1].mention",
                        "missing field"},
                {"/v1/link/batch", "[" + ("{" + ok + ", \"image_key\": \"1097\"},").repeat(8) + "{" + ok + ", \"image_key\": \"1097\"}]", 400, "body",
                        "at most 8"},
                {"/v1/link", "{\"text\": \"" + "Paris at night. ".repeat(400) + "\", \"mention\": \"Paris\", \"image_key\": \"1097\"}", 400, "null",
                        "beyond max_position_embeddings"},
                {"/v1/link", "{" + ok + ", \"image_key\": \"" + "x".repeat(200_001) + "\"}", 413, "body", "limit of 200000 bytes"},
        };
        for (Object[] c : cases) {
            Reply r = post((String) c[0], c[1]);
            String what = c[0] + " " + ((String) c[1]).substring(0, Math.min(80, ((String) c[1]).length())) + " -> " + r.body();
            assertEquals(c[2], r.status(), what);
            assertEquals(c[3], r.body().get("field").asText(), what);
            assertTrue(r.body().get("error").asText().contains((String) c[4]), what);
            assertFalse(r.body().toString().contains("Exception"), what);
        }
        Reply get = send(server, "GET", "/v1/link", null);
        assertEquals(405, get.status());
        assertTrue(get.body().get("error").asText().contains("use POST"), get.body().toString());
        assertEquals(404, send(server, "GET", "/nothing/here", null).status());
    }

    @Test
    void healthAndPageDescribeTheServer() throws IOException {
        Reply health = send(server, "GET", "/v1/health", null);
        assertEquals(200, health.status());
        JsonNode h = health.body();
        assertTrue(h.get("ready").asBoolean());
        assertEquals("tiny-opt", h.get("model").asText());
        assertEquals("OPTForCausalLM", h.get("architecture").asText());
        assertEquals(7, h.get("kb_entities").asInt());
        assertTrue(h.get("images").get("by_key").asBoolean() && h.get("images").get("upload").asBoolean());
        assertEquals(5, h.get("max_top_k").asInt());

        Reply page = send(server, "GET", "/", null);
        assertEquals(200, page.status());
        String html = page.body().asText();
        assertTrue(html.contains("<textarea id=\"text\"") && html.contains("id=\"mention\"") && html.contains("type=\"file\"")
                && html.contains("fetch(\"/v1/link\""), "the page has a text box, a mention field, an upload and calls the API");
        assertFalse(html.matches("(?s).*(src|href)=\"(https?:)?//.*"), "the page loads nothing from elsewhere");
    }

    @Test
    void concurrentRequestsAllSucceedWithTheSameAnswer() throws Exception {
        JsonNode expected = post("/v1/link", query(MENTIONS[0][0], MENTIONS[0][1], KEYS[0]).put("top_k", 2)).body();
        String body = JSON.writeValueAsString(query(MENTIONS[0][0], MENTIONS[0][1], KEYS[0]).put("top_k", 2));
        List<CompletableFuture<HttpResponse<String>>> running = new ArrayList<>();
        for (int i = 0; i < 12; i++) // 2 link at once, 10 wait: within the queue limit of 16
            running.add(http.sendAsync(HttpRequest.newBuilder(server.uri().resolve("/v1/link")).timeout(TIMEOUT)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        for (CompletableFuture<HttpResponse<String>> f : running) {
            assertEquals(200, f.get().statusCode(), f.get().body());
            assertSameAnswer(expected, JSON.readTree(f.get().body()));
        }
    }

    @Test
    void beyondTheQueueRequestsGet503AndShutdownLetsRunningOnesFinish() throws Exception {
        ServeCommand command = command("--parallel", "1", "--queue", "0", "--max-batch", "128", "--shutdown-grace", "60");
        LinkServer small = LinkServer.start(session, command.settings(), System.err);
        try {
            ArrayNode batch = JSON.createArrayNode();
            for (int i = 0; i < 128; i++) batch.add(query(MENTIONS[i % 3][0], MENTIONS[i % 3][1], KEYS[i % 3]));
            boolean refused = false;
            for (int round = 0; round < 3 && !refused; round++) { // the batch may finish before the single request arrives
                CompletableFuture<HttpResponse<String>> running = http.sendAsync(HttpRequest.newBuilder(small.uri().resolve("/v1/link/batch"))
                        .timeout(TIMEOUT).POST(HttpRequest.BodyPublishers.ofString(batch.toString())).build(), HttpResponse.BodyHandlers.ofString());
                for (int poll = 0; poll < 500 && !running.isDone(); poll++) {
                    if (send(small, "GET", "/v1/health", null).body().get("load").get("linking_or_waiting").asInt() > 0) break;
                    Thread.sleep(2);
                }
                Reply single = send(small, "POST", "/v1/link", query(MENTIONS[0][0], MENTIONS[0][1], KEYS[0]).toString());
                if (single.status() == 503) {
                    refused = true;
                    assertTrue(single.body().get("error").asText().contains("overloaded"), single.body().toString());
                } else assertEquals(200, single.status(), single.body().toString());
                if (refused) {
                    small.close(); // while the batch runs: it finishes, the listener stops after it
                    assertEquals(200, running.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).statusCode());
                    assertEquals(128, JSON.readTree(running.get().body()).get("results").size());
                } else assertEquals(200, running.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).statusCode());
            }
            assertTrue(refused, "a request beyond one running and none waiting was refused");
            assertThrows(IOException.class, () -> send(small, "GET", "/v1/health", null), "the closed server no longer listens");
        } finally {
            small.close();
        }
    }

    @Test
    void demonstrationsAreRetrievedForEachMention() throws IOException {
        Path train = dir.resolve("train.jsonl");
        String[][] records = {{"Larry Bird shoots in 1985", "Larry Bird", "1097", "Q2", "Larry Bird"},
                {"The Eiffel tower in Paris", "Paris", "13295", "Q5", "Paris"}, {"Ada Lovelace portrait", "Ada Lovelace", "3030", "Q3", "Ada Lovelace"}};
        StringBuilder s = new StringBuilder();
        for (String[] r : records)
            s.append(JSON.createObjectNode().put("text", r[0]).put("mention", r[1]).put("img_name", r[2]).put("golden", r[3]).put("target", r[4]))
                    .append('\n');
        Files.writeString(train, s);
        ServeCommand command = command("--train", train.toString(), "--demos", "2", "--top-k", "3");
        List<MelExample> training = MelJsonlReader.strict().read(train).examples();
        List<LinkQuery> queries = new ArrayList<>();
        ArrayNode batch = JSON.createArrayNode();
        SentenceEncoder sentences = OnnxSentenceEncoder.allMiniLmL6V2();
        DemoRetriever retriever = new DemoRetriever(training, sentences.embed(training.stream().map(MelExample::mention).toList()), sentences);
        for (int i = 0; i < MENTIONS.length; i++) {
            List<Demonstration> demos = new ArrayList<>();
            for (int d : retriever.forEmbedding(sentences.embed(List.of(MENTIONS[i][1]))[0], 2)) {
                MelExample e = training.get(d);
                demos.add(new Demonstration(e.text(), e.mention(), pooled[List.of(KEYS).indexOf(e.imageKey())], e.target()));
            }
            queries.add(new LinkQuery(MENTIONS[i][0], MENTIONS[i][1], pooled[i], demos));
            batch.add(query(MENTIONS[i][0], MENTIONS[i][1], KEYS[i]));
        }
        List<LinkResult> expected = expected(3, queries);
        List<LinkResult> without = expected(3, queries.stream().map(q -> new LinkQuery(q.text(), q.mention(), q.image(), List.of())).toList());
        assertTrue(expected.get(0).best().score() != without.get(0).best().score(), "the demonstrations change the answer, so they are checked");
        try (LinkSession withDemos = command.openSession(); LinkServer served = LinkServer.start(withDemos, command.settings(), System.err)) {
            assertEquals(2, send(served, "GET", "/v1/health", null).body().get("demonstrations").asInt());
            Reply r = send(served, "POST", "/v1/link/batch", batch.toString());
            assertEquals(200, r.status(), r.body().toString());
            for (int i = 0; i < MENTIONS.length; i++) assertAnswer(expected.get(i), r.body().get("results").get(i), SCORE_NOISE);
        }
    }

    @Test
    void settingsAreCheckedBeforeAnythingLoads() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> command("--top-k", "6").settings()).getMessage().contains("--top-k"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> command("--queue", "-1").settings()).getMessage().contains("--queue"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> command("--port", "70000").settings()).getMessage().contains("--port"));
    }
}
