package gemel.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.config.HfConfig;
import gemel.engine.grad.InputGradients;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.NpyFile;
import gemel.engine.io.WeightSource;
import gemel.engine.model.CausalLM;
import gemel.engine.model.Decoders;
import gemel.link.FeatureMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Loss, logits and d loss / d inputs_embeds of a GEMEL-shaped input against PyTorch autograd
 * (core/src/test/resources/fixtures/training, written by tools/fixtures/decoders/make_fixtures.py),
 * and the mapper gradients obtained from them by the chain rule.
 */
class TrainingFixtureTest {
    /**
     * Gradients of two fp32 computations (PyTorch autograd and the engine's kernels) that sum in different
     * orders: they agree to this fraction of the largest gradient.
     */
    private static final double GRADIENT_TOLERANCE = 5e-5;
    private static final Path ROOT = Path.of(System.getProperty("gemel.root", ".")).resolve("core/src/test/resources/fixtures/training");

    @Test
    void opt() throws Exception { check("opt"); }

    @Test
    void llama() throws Exception { check("llama"); }

    private static void check(String name) throws Exception {
        Path dir = ROOT.resolve(name);
        JsonNode spec = new ObjectMapper().readTree(dir.resolve("cases.json").toFile());
        Path modelDir = dir.resolve(spec.get("model_dir").asText());
        int k = spec.get("k").asInt(), width = spec.get("width").asInt(), dimClip = spec.get("dim_clip").asInt();
        float[] mapperW = NpyFile.read(dir.resolve("mapper.weight.npy")).floats();
        float[] mapperB = NpyFile.read(dir.resolve("mapper.bias.npy")).floats();
        float[] features = NpyFile.read(dir.resolve("image_features.npy")).floats();
        HfConfig config = HfConfig.load(modelDir);
        try (WeightSource weights = Checkpoint.open(modelDir); CausalLM lm = Decoders.load(config, Checkpoint.open(modelDir))) {
            InputGradients gradients = InputGradients.of(config, weights, true);
            FeatureMapper mapper = FeatureMapper.initial(lm.shape(), dimClip, k, 0); // then given the fixture's parameters
            System.arraycopy(mapperW, 0, mapper.weight(), 0, mapperW.length);
            System.arraycopy(mapperB, 0, mapper.bias(), 0, mapperB.length);
            for (JsonNode c : spec.get("cases")) {
                String what = name + "/" + c.get("name").asText();
                int batch = c.get("rows").size(), tokens = c.get("attention_mask").get(0).size();
                int[] mask = flatInts(c.get("attention_mask")), labels = flatInts(c.get("labels"));
                float[] expectedEmbeds = NpyFile.read(dir.resolve(c.get("inputs_embeds").asText())).floats();

                // assemble the input as the trainer does: mapped image tokens, embedded text, pads on the right
                float[] embeds = new float[batch * tokens * width];
                List<int[]> imageSlots = new ArrayList<>(); // {row position, image index}
                for (int b = 0; b < batch; b++) {
                    int t = 0;
                    for (JsonNode seg : c.get("rows").get(b)) {
                        if (seg.has("image")) {
                            int image = seg.get("image").asInt();
                            mapper.map(feature(features, image, dimClip), embeds, (b * tokens + t) * width);
                            imageSlots.add(new int[] {b * tokens + t, image});
                            t += k;
                        } else {
                            for (JsonNode id : seg.get("ids")) lm.embed(id.asInt(), embeds, (b * tokens + t++) * width);
                        }
                    }
                    for (; t < tokens; t++) lm.embed(spec.get("pad_token_id").asInt(), embeds, (b * tokens + t) * width);
                }
                assertClose(what + " inputs_embeds", expectedEmbeds, embeds, 1e-5);

                InputGradients.Result r = gradients.compute(embeds, batch, tokens, mask, null, labels);
                assertEquals(c.get("loss").asDouble(), r.loss(), 1e-5, what + " loss");
                float[] expectedGrad = NpyFile.read(dir.resolve(c.get("grad_inputs_embeds").asText())).floats();
                assertClose(what + " d loss / d inputs_embeds", expectedGrad, r.gradients(), GRADIENT_TOLERANCE);

                float[] logits = gradients.logits(embeds, batch, tokens, mask, null);
                float[] expectedLogits = NpyFile.read(dir.resolve(c.get("logits").asText())).floats();
                for (int i = 0; i < logits.length; i++)
                    if (!Float.isNaN(expectedLogits[i])) assertEquals(expectedLogits[i], logits[i], 1e-4, what + " logit " + i);

                // chain rule through the mapper: dW[o, :] += dToken[o] * feature, db[o] += dToken[o]
                float[] gradW = new float[mapperW.length], gradB = new float[mapperB.length];
                for (int[] slot : imageSlots) {
                    float[] dTokens = new float[k * width];
                    for (int i = 0; i < dTokens.length; i++) dTokens[i] = r.gradients()[slot[0] * width + i];
                    mapper.backward(feature(features, slot[1], dimClip), dTokens, gradW, gradB);
                }
                assertClose(what + " d loss / d mapper weight", NpyFile.read(dir.resolve(c.get("grad_mapper_weight").asText())).floats(), gradW, GRADIENT_TOLERANCE);
                assertClose(what + " d loss / d mapper bias", NpyFile.read(dir.resolve(c.get("grad_mapper_bias").asText())).floats(), gradB, GRADIENT_TOLERANCE);
            }
        }
    }

    private static float[] feature(float[] features, int image, int dimClip) {
        return java.util.Arrays.copyOfRange(features, image * dimClip, (image + 1) * dimClip);
    }

    private static void assertClose(String what, float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, what + " length");
        double scale = 0;
        for (float e : expected) scale = Math.max(scale, Math.abs(e));
        for (int i = 0; i < expected.length; i++)
            assertEquals(expected[i], actual[i], tolerance * Math.max(1, scale), what + "[" + i + "]");
    }

    private static int[] flatInts(JsonNode rows) {
        List<Integer> out = new ArrayList<>();
        for (JsonNode row : rows) for (JsonNode v : row) out.add(v.asInt());
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
