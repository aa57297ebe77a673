package gemel.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compares the tokenizer with ids and texts computed by tools/fixtures/tokenizer/make_tokenizer_fixtures.py, an
 * independent Python implementation of GPT-2's byte-level BPE (and of Llama-style BPE with byte fallback), on real
 * WikiMEL captions and entity names.
 */
class TokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path FIXTURES = Path.of(System.getProperty("gemel.root", "."), "engine", "src", "test", "resources", "tokenizer");

    @Test
    void optFolderWithVocabAndMergesGivesThePythonIds() throws IOException {
        checkAgainstFixture(Tokenizer.load(FIXTURES.resolve("opt-bpe")), expected("expected-opt.json"));
    }

    @Test
    void optFolderWithTokenizerJsonGivesThePythonIds() throws IOException {
        checkAgainstFixture(Tokenizer.load(FIXTURES.resolve("opt-json")), expected("expected-opt.json"));
    }

    @Test
    void llamaStyleTokenizerJsonGivesThePythonIds() throws IOException {
        checkAgainstFixture(Tokenizer.load(FIXTURES.resolve("llama-json")), expected("expected-llama.json"));
    }

    /** What GEMEL does with the tokenizer: prompt pieces lose their BOS; entity names end in the eos token. */
    @Test
    void promptPiecesAndEntityNamesTokenizeAsGemelNeedsThem() {
        Tokenizer opt = Tokenizer.load(FIXTURES.resolve("opt-bpe"));
        assertEquals(2, opt.bosTokenId());
        for (String name : List.of("Noel Harrison", "Stefanie Powers", "Charles L. Smith (Seattle politician)", "Árpád Göncz")) {
            int[] plain = opt.encode(name, false);
            int[] piece = opt.encode(name);
            assertEquals(2, piece[0]);
            assertArrayEquals(plain, Arrays.copyOfRange(piece, 1, piece.length), name);
            int[] entry = opt.encode(name + "</s>");
            assertEquals(plain.length + 2, entry.length, name);
            assertEquals(2, entry[0]);
            assertEquals(2, entry[entry.length - 1]);
            assertArrayEquals(plain, Arrays.copyOfRange(entry, 1, entry.length - 1), name);
            assertEquals(name, opt.decode(entry, true));
        }
    }

    @Test
    void batchEncodingMatchesOneByOne() throws IOException {
        Tokenizer opt = Tokenizer.load(FIXTURES.resolve("opt-json"));
        List<String> texts = new ArrayList<>();
        List<int[]> want = new ArrayList<>();
        for (JsonNode c : expected("expected-opt.json").get("cases")) {
            texts.add(c.get("text").asText());
            want.add(ints(c.get("idsPlain")));
        }
        List<int[]> got = opt.encodeAll(texts, false);
        assertEquals(texts.size(), got.size());
        for (int i = 0; i < texts.size(); i++) assertArrayEquals(want.get(i), got.get(i), texts.get(i));
    }

    @Test
    void oneInstanceServesManyThreads() throws Exception {
        Tokenizer opt = Tokenizer.load(FIXTURES.resolve("opt-bpe"));
        JsonNode cases = expected("expected-opt.json").get("cases");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t;
                results.add(pool.submit(() -> {
                    int checked = 0;
                    for (int round = 0; round < 3; round++) {
                        for (int i = 0; i < cases.size(); i++) {
                            JsonNode c = cases.get((i + offset * 37) % cases.size());
                            assertArrayEquals(ints(c.get("ids")), opt.encode(c.get("text").asText()));
                            assertEquals(c.get("decoded").asText(), opt.decode(ints(c.get("ids")), true));
                            checked++;
                        }
                    }
                    return checked;
                }));
            }
            for (Future<Integer> r : results) assertEquals(3 * cases.size(), r.get());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Without tokenizer_config.json the special ids come from config.json and decode cleans up spaces (transformers' default). */
    @Test
    void configJsonSuppliesSpecialIdsWhenTheTokenizerFilesDoNot(@TempDir Path dir) throws IOException {
        Files.copy(FIXTURES.resolve("llama-json/tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("config.json"), "{\"bos_token_id\": 1, \"eos_token_id\": [2, 0], \"pad_token_id\": 0}");
        Tokenizer t = Tokenizer.load(dir);
        assertEquals(1, t.bosTokenId());
        assertEquals(2, t.eosTokenId());
        assertEquals(0, t.padTokenId());
        assertEquals("Hello, world.", t.decode(t.encode("Hello , world ."), true));
    }

    /** As transformers does, the special tokens of tokenizer_config.json are registered even if tokenizer.json lacks them. */
    @Test
    void specialTokensOfTheConfigAreRegisteredInTokenizerJson(@TempDir Path dir) throws IOException {
        ObjectNode json = (ObjectNode) JSON.readTree(FIXTURES.resolve("opt-json/tokenizer.json").toFile());
        ArrayNode onlyPlain = JSON.createArrayNode();
        json.get("added_tokens").forEach(t -> { if (!t.get("special").asBoolean()) onlyPlain.add(t); });
        assertEquals(1, onlyPlain.size());
        json.set("added_tokens", onlyPlain);
        Files.writeString(dir.resolve("tokenizer.json"), json.toString());
        for (String f : List.of("tokenizer_config.json", "special_tokens_map.json")) Files.copy(FIXTURES.resolve("opt-json").resolve(f), dir.resolve(f));
        checkAgainstFixture(Tokenizer.load(dir), expected("expected-opt.json"));
    }

    /** A tokenizer.json may carry truncation and padding settings; a prompt must keep every token regardless. */
    @Test
    void truncationAndPaddingOfTheFileAreIgnored(@TempDir Path dir) throws IOException {
        ObjectNode json = (ObjectNode) JSON.readTree(FIXTURES.resolve("llama-json/tokenizer.json").toFile());
        json.set("truncation", JSON.readTree("{\"direction\": \"Right\", \"max_length\": 4, \"strategy\": \"LongestFirst\", \"stride\": 0}"));
        json.set("padding", JSON.readTree("{\"strategy\": {\"Fixed\": 64}, \"direction\": \"Right\", \"pad_to_multiple_of\": null, "
                + "\"pad_id\": 0, \"pad_type_id\": 0, \"pad_token\": \"<unk>\"}"));
        Files.writeString(dir.resolve("tokenizer.json"), json.toString());
        Files.copy(FIXTURES.resolve("llama-json/tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        Tokenizer t = Tokenizer.load(dir);
        for (JsonNode c : expected("expected-llama.json").get("cases")) {
            assertArrayEquals(ints(c.get("ids")), t.encode(c.get("text").asText()), c.get("text").asText());
        }
    }

    @Test
    void aFolderWithoutTokenizerFilesIsAnErrorThatSaysSo(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("no tokenizer files"), e.getMessage());
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    @Test
    void stories260kHasNoTokenizer() {
        Path stories = Path.of(System.getProperty("gemel.shared", "../shared"), "models", "stories260k");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(stories));
        assertTrue(e.getMessage().contains("no tokenizer files in " + stories), e.getMessage());
    }

    @Test
    void vocabWithoutMergesIsAnErrorNamingTheMissingFile(@TempDir Path dir) throws IOException {
        Files.copy(FIXTURES.resolve("opt-bpe/vocab.json"), dir.resolve("vocab.json"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("no merges.txt"), e.getMessage());
    }

    @Test
    void aMergeOfUnknownTokensIsAnErrorNamingTheLine(@TempDir Path dir) throws IOException {
        Files.copy(FIXTURES.resolve("opt-bpe/vocab.json"), dir.resolve("vocab.json"));
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\ni n\nzz qq\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("merges.txt line 3"), e.getMessage());
        assertTrue(e.getMessage().contains("\"zz\""), e.getMessage());
    }

    @Test
    void aTokenizerClassOtherThanGpt2IsRefusedForVocabAndMerges(@TempDir Path dir) throws IOException {
        for (String f : List.of("vocab.json", "merges.txt")) Files.copy(FIXTURES.resolve("opt-bpe").resolve(f), dir.resolve(f));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"RobertaTokenizer\"}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("RobertaTokenizer"), e.getMessage());
    }

    @Test
    void decodingAnUnknownIdIsAnError() {
        Tokenizer opt = Tokenizer.load(FIXTURES.resolve("opt-bpe"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> opt.decode(new int[] {2, opt.vocabSize()}, true));
        assertTrue(e.getMessage().contains("token id " + opt.vocabSize() + " at position 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> opt.decode(new int[] {-1}, true));
    }

    private static void checkAgainstFixture(Tokenizer t, JsonNode expected) {
        assertEquals(nullable(expected.get("bos")), t.bosTokenId(), "bos");
        assertEquals(nullable(expected.get("eos")), t.eosTokenId(), "eos");
        assertEquals(nullable(expected.get("pad")), t.padTokenId(), "pad");
        assertEquals(expected.get("vocabSize").asInt(), t.vocabSize(), "vocab size");
        Set<Integer> special = new TreeSet<>();
        expected.get("special").forEach(n -> special.add(n.asInt()));
        assertEquals(special, new TreeSet<>(t.specialIds()));
        for (int id = 0; id < t.vocabSize(); id++) assertEquals(special.contains(id), t.isSpecial(id), "isSpecial(" + id + ")");
        assertFalse(t.isSpecial(-1));

        int cases = 0;
        for (JsonNode c : expected.get("cases")) {
            String text = c.get("text").asText();
            int[] ids = ints(c.get("ids"));
            assertArrayEquals(ids, t.encode(text), () -> "encode " + quote(text));
            assertArrayEquals(ints(c.get("idsPlain")), t.encode(text, false), () -> "encode without special tokens " + quote(text));
            assertEquals(c.get("decoded").asText(), t.decode(ids, true), () -> "decode skipping special tokens " + quote(text));
            assertEquals(c.get("decodedKeep").asText(), t.decode(ids, false), () -> "decode keeping special tokens " + quote(text));
            cases++;
        }
        assertTrue(cases >= 30, "fixture has " + cases + " cases");
        for (JsonNode c : expected.get("decodeOnly")) {
            assertEquals(c.get("text").asText(), t.decode(ints(c.get("ids")), c.get("skip").asBoolean()), () -> "decode " + c.get("ids"));
        }
    }

    private static JsonNode expected(String name) throws IOException {
        return JSON.readTree(FIXTURES.resolve(name).toFile());
    }

    private static Integer nullable(JsonNode n) { return n == null || n.isNull() ? null : n.asInt(); }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    private static String quote(String s) {
        return '"' + s.replace("\n", "\\n").replace("\t", "\\t") + '"';
    }
}
