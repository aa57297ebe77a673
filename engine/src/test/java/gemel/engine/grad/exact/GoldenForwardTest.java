package gemel.engine.grad.exact;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.NpyFile;
import gemel.engine.io.WeightSource;
import gemel.engine.model.CausalLM;
import gemel.engine.model.Decoders;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The training forward (whose backward the finite-difference tests check) against the PyTorch
 * logits of the decoder fixtures: every architecture, storage layout and dtype, unpadded, from
 * embeddings and left-padded; and the real pretrained stories260K model.
 */
class GoldenForwardTest {
    private static final Path FIXTURES = Path.of(System.getProperty("gemel.root", ".")).resolve("engine/src/test/resources/fixtures/decoders");

    @ParameterizedTest
    @ValueSource(strings = {"opt-prenorm", "opt-prenorm-fp16", "opt-prenorm-bf16", "opt-350m-style", "llama-gqa", "llama-gqa-fp16",
            "llama-gqa-bf16", "qwen2", "mistral", "stories260k"})
    void logitsMatchTheFixture(String name) throws Exception {
        Path dir = FIXTURES.resolve(name);
        JsonNode spec = new ObjectMapper().readTree(dir.resolve("cases.json").toFile());
        Path modelDir = spec.has("shared_model") ? Path.of(System.getProperty("gemel.shared")).resolve(spec.get("shared_model").asText())
                : dir.resolve(spec.get("model_dir").asText());
        HfConfig config = HfConfig.load(modelDir);
        try (WeightSource weights = Checkpoint.open(modelDir); CausalLM lm = Decoders.load(config, Checkpoint.open(modelDir))) {
            ExactGradients g = ExactGradients.of(config, weights, false);
            int width = g.inputWidth(), vocab = g.vocabSize();
            for (JsonNode c : spec.get("cases")) {
                JsonNode maskRows = c.get("attention_mask");
                int batch = c.has("input_ids") ? c.get("input_ids").size() : 1;
                int tokens = c.has("input_ids") ? c.get("input_ids").get(0).size() : c.get("inputs_embeds_shape").get(1).asInt();
                int[] mask = new int[batch * tokens];
                for (int i = 0; i < mask.length; i++) mask[i] = maskRows == null ? 1 : maskRows.get(i / tokens).get(i % tokens).asInt();
                double[] embeds = new double[batch * tokens * width];
                if (c.has("input_ids")) {
                    float[] row = new float[width];
                    for (int i = 0; i < batch * tokens; i++) {
                        lm.embed(c.get("input_ids").get(i / tokens).get(i % tokens).asInt(), row, 0);
                        for (int k = 0; k < width; k++) embeds[i * width + k] = row[k];
                    }
                } else {
                    float[] e = NpyFile.read(dir.resolve(c.get("inputs_embeds").asText())).floats();
                    for (int i = 0; i < e.length; i++) embeds[i] = e[i];
                }
                double[] logits = g.logits(embeds, batch, tokens, mask, null);
                float[] expected = NpyFile.read(dir.resolve(c.get("logits").asText())).floats();
                double tolerance = name.equals("stories260k") ? 2e-4 : 1e-4, worst = 0;
                for (int i = 0; i < batch * tokens * vocab; i++)
                    if (!Float.isNaN(expected[i])) worst = Math.max(worst, Math.abs(expected[i] - logits[i]));
                assertEquals(0, worst, tolerance, name + "/" + c.get("name").asText() + ": largest logit difference");
            }
        }
    }
}
