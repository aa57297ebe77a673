package gemel.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.app.ForwardCommandTest.Run;
import gemel.engine.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {
    static final Path SHARED = Path.of(System.getProperty("gemel.shared"));
    static final Path STORIES = SHARED.resolve("models/stories260k");

    @TempDir
    Path tmp;

    @Test
    void greedyIdsOfStories260kMatchTheReference() throws Exception {
        // the fixture's ids are BOS followed by 23 greedy steps of the PyTorch reference
        JsonNode ids = ForwardCommandTest.cases("stories260k").get(0).get("input_ids").get(0);
        Run run = ForwardCommandTest.gemel("generate", "--model", STORIES.toString(), "--input-ids", "1", "--max-new-tokens", "23", "--json");
        assertEquals(0, run.code(), run.err());
        JsonNode out = new ObjectMapper().readTree(run.out());
        assertEquals(23, out.get("ids").size());
        for (int i = 0; i < 23; i++) assertEquals(ids.get(i + 1).asInt(), out.get("ids").get(i).asInt(), "step " + i);
        assertTrue(out.get("text").isNull(), "no tokenizer, no text");
        assertTrue(out.get("tokens_per_s").asDouble() > 0);
    }

    @Test
    void idsArePrintedWithoutATokenizerAndAPromptNeedsOne() {
        Run run = ForwardCommandTest.gemel("generate", "--model", STORIES.toString(), "--input-ids", "1,461", "--max-new-tokens", "2");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().startsWith("[461, 401]"), run.out()); // the reference's steps 2 and 3
        assertTrue(run.out().contains("tokens/s"), run.out());
        Run prompt = ForwardCommandTest.gemel("generate", "--model", STORIES.toString(), "--prompt", "Once");
        assertEquals(1, prompt.code());
        assertTrue(prompt.err().contains("no tokenizer files"), prompt.err());
    }

    @Test
    void promptTextGivesWhatItsIdsGive() throws Exception {
        // stories260k's weights beside a Llama-style tokenizer fixture
        Path dir = Files.createDirectory(tmp.resolve("model"));
        for (String f : new String[] {"config.json", "model.safetensors"}) Files.createSymbolicLink(dir.resolve(f), STORIES.resolve(f));
        Path tokenizerDir = Path.of(System.getProperty("gemel.root"), "engine/src/test/resources/tokenizer/llama-json");
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json"}) Files.copy(tokenizerDir.resolve(f), dir.resolve(f));
        String text = "the cat";
        int[] ids = Tokenizer.load(dir).encode(text);
        assertTrue(Arrays.stream(ids).allMatch(id -> id < 512), "prompt ids within the model's vocabulary: " + Arrays.toString(ids));
        Run fromText = ForwardCommandTest.gemel("generate", "--model", dir.toString(), "--prompt", text, "--max-new-tokens", "5", "--json");
        String idList = Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
        Run fromIds = ForwardCommandTest.gemel("generate", "--model", dir.toString(), "--input-ids", idList, "--max-new-tokens", "5", "--json");
        assertEquals(0, fromText.code(), fromText.err());
        JsonNode a = new ObjectMapper().readTree(fromText.out()), b = new ObjectMapper().readTree(fromIds.out());
        assertEquals(a.get("ids"), b.get("ids"));
        int[] generated = new int[a.get("ids").size()];
        for (int i = 0; i < generated.length; i++) generated[i] = a.get("ids").get(i).asInt();
        assertEquals(Tokenizer.load(dir).decode(generated, true), a.get("text").asText());
        Run streamed = ForwardCommandTest.gemel("generate", "--model", dir.toString(), "--prompt", text, "--max-new-tokens", "5");
        assertEquals(0, streamed.code(), streamed.err());
        assertTrue(streamed.out().startsWith(a.get("text").asText() + System.lineSeparator()), "streamed: " + streamed.out());
    }
}
