package gemel.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.io.NpyFile;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gemel forward --labels --grad-out} against the PyTorch training fixture (loss and d loss / d inputs_embeds). */
class ForwardGradientTest {
    static final Path TRAINING = Path.of(System.getProperty("gemel.root"), "core/src/test/resources/fixtures/training/opt");

    @TempDir
    Path tmp;

    @Test
    void lossAndInputGradientMatchAutograd() throws Exception {
        JsonNode c = new ObjectMapper().readTree(TRAINING.resolve("cases.json").toFile()).get("cases").get(0);
        JsonNode row = c.get("labels").get(0);
        int[] labels = new int[row.size()];
        for (int i = 0; i < labels.length; i++) labels[i] = row.get(i).asInt();
        Path labelFile = tmp.resolve("labels.npy"), grad = tmp.resolve("grad.npy");
        NpyFile.write(labelFile, new long[] {labels.length}, labels);
        ForwardCommandTest.Run run = ForwardCommandTest.gemel("forward", "--model", TRAINING.resolve("model").toString(),
                "--inputs-embeds", TRAINING.resolve("single.inputs_embeds.npy").toString(), "--out", tmp.resolve("logits.npy").toString(),
                "--labels", labelFile.toString(), "--grad-out", grad.toString());
        assertEquals(0, run.code(), run.err());
        Matcher loss = Pattern.compile("loss ([0-9.]+) over 4 target tokens").matcher(run.out());
        assertTrue(loss.find(), run.out());
        assertEquals(c.get("loss").asDouble(), Double.parseDouble(loss.group(1)), 1e-5);
        float[] expected = NpyFile.read(TRAINING.resolve("single.grad_inputs_embeds.npy")).floats(), actual = NpyFile.read(grad).floats();
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-5, "gradient " + i);
    }

    @Test
    void labelsWithoutAGradientFileIsAUsageError() {
        ForwardCommandTest.Run run = ForwardCommandTest.gemel("forward", "--model", TRAINING.resolve("model").toString(),
                "--input-ids", "2,5,6", "--out", tmp.resolve("l.npy").toString(), "--labels", tmp.resolve("x.npy").toString());
        assertEquals(2, run.code());
        assertTrue(run.err().contains("--grad-out"), run.err());
    }
}
