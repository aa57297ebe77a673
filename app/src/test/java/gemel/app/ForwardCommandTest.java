package gemel.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.io.NpyArray;
import gemel.engine.io.NpyFile;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ForwardCommandTest {
    static final Path DECODERS = Path.of(System.getProperty("gemel.root"), "engine/src/test/resources/fixtures/decoders");

    @TempDir
    Path tmp;

    /** Runs the gemel command line in-process; returns exit code, stdout and stderr. */
    record Run(int code, String out, String err) {}

    static Run gemel(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cli = new CommandLine(new GemelCli());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static JsonNode cases(String fixture) throws Exception {
        return new ObjectMapper().readTree(DECODERS.resolve(fixture).resolve("cases.json").toFile()).get("cases");
    }

    static void assertClose(float[] expected, float[] actual, float tolerance) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], tolerance, "logit " + i);
    }

    @Test
    void logitsFromIdsMatchTheFixture() throws Exception {
        JsonNode c = cases("llama-gqa").get(0);
        String ids = StreamSupport.stream(c.get("input_ids").get(0).spliterator(), false).map(JsonNode::asText).collect(Collectors.joining(","));
        Path out = tmp.resolve("logits.npy");
        Run run = gemel("forward", "--model", DECODERS.resolve("llama-gqa/model").toString(), "--input-ids", ids, "--out", out.toString());
        assertEquals(0, run.code(), run.err());
        NpyArray logits = NpyFile.read(out);
        assertArrayEquals(new long[] {7, 96}, logits.shape());
        assertClose(NpyFile.read(DECODERS.resolve("llama-gqa/ids.logits.npy")).floats(), logits.floats(), 1e-4f);
    }

    @Test
    void logitsFromEmbeddingsOfTheNarrowInputWidth() {
        Path out = tmp.resolve("logits.npy");
        Path embeds = DECODERS.resolve("opt-350m-style/embeds.inputs_embeds.npy"); // [1, 6, 16]: word_embed_proj_dim, not hidden
        Run run = gemel("forward", "--model", DECODERS.resolve("opt-350m-style/model").toString(), "--inputs-embeds", embeds.toString(), "--out", out.toString());
        assertEquals(0, run.code(), run.err());
        assertClose(NpyFile.read(DECODERS.resolve("opt-350m-style/embeds.logits.npy")).floats(), NpyFile.read(out).floats(), 1e-4f);
    }

    @Test
    void exactlyOneInputAndAMatchingWidth() {
        String model = DECODERS.resolve("opt-prenorm/model").toString(), out = tmp.resolve("x.npy").toString();
        Run both = gemel("forward", "--model", model, "--input-ids", "3,4", "--inputs-embeds", "e.npy", "--out", out);
        assertEquals(2, both.code());
        assertTrue(both.err().contains("mutually exclusive"), both.err());
        Path wide = DECODERS.resolve("opt-350m-style/embeds.inputs_embeds.npy"); // width 16, opt-prenorm wants 32
        Run wrong = gemel("forward", "--model", model, "--inputs-embeds", wide.toString(), "--out", out);
        assertEquals(1, wrong.code());
        assertTrue(wrong.err().contains(wide.toString()) && wrong.err().contains("[tokens, 32]"), wrong.err());
        assertTrue(gemel("forward", "--help").out().contains("--inputs-embeds"));
    }
}
