package gemel.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.model.ModelShape;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureMapperTest {
    private static final Path RESOURCES = Path.of(System.getProperty("gemel.root"), "core/src/test/resources/link");

    private static ModelShape model(String architecture, int vocab, int width) {
        return new ModelShape(architecture, vocab, width, width, 2, 2, 2, width / 2, 64, 2, 2, 1);
    }

    private static JsonNode golden() throws IOException { return new ObjectMapper().readTree(RESOURCES.resolve("feature_mapper.json").toFile()); }

    private static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) a.get(i).asDouble();
        return out;
    }

    @Test
    void loadsTheReferenceCheckpointAndMapsAsTorch() throws IOException {
        JsonNode g = golden();
        FeatureMapper mapper = FeatureMapper.load(RESOURCES.resolve("reference_linear.pkl"), model("OPTForCausalLM", 50272, 8));
        assertEquals(3, mapper.tokens(), "k = weight rows / model width");
        assertEquals(16, mapper.dimClip());
        assertArrayEquals(floats(g.get("mapped")), mapper.map(floats(g.get("feature"))), 1e-5f);
    }

    @Test
    void backwardAccumulatesTorchGradients() throws IOException {
        JsonNode g = golden();
        FeatureMapper mapper = FeatureMapper.load(RESOURCES.resolve("reference_linear.pkl"), model("OPTForCausalLM", 50272, 8));
        float[] gradW = new float[mapper.weight().length], gradB = new float[mapper.bias().length];
        float[] feature = floats(g.get("feature")), dOut = floats(g.get("d_out"));
        mapper.backward(feature, dOut, gradW, gradB);
        assertArrayEquals(floats(g.get("grad_weight")), gradW, 1e-5f);
        assertArrayEquals(floats(g.get("grad_bias")), gradB, 1e-6f);
        mapper.backward(feature, dOut, gradW, gradB); // accumulates
        float[] twice = floats(g.get("grad_bias"));
        for (int i = 0; i < twice.length; i++) twice[i] *= 2;
        assertArrayEquals(twice, gradB, 1e-5f);
    }

    @Test
    void savedMapperLoadsBackForItsModelOnly(@TempDir Path dir) {
        ModelShape opt = model("OPTForCausalLM", 50272, 8);
        FeatureMapper mapper = FeatureMapper.initial(opt, 16, 4, 42);
        float bound = (float) (1 / Math.sqrt(16));
        for (float w : mapper.weight()) assertTrue(Math.abs(w) <= bound);
        Path file = dir.resolve("mapper.safetensors");
        mapper.save(file);
        FeatureMapper back = FeatureMapper.load(file, opt);
        assertEquals(4, back.tokens());
        assertArrayEquals(mapper.weight(), back.weight());
        assertArrayEquals(mapper.bias(), back.bias());

        IllegalArgumentException wider = assertThrows(IllegalArgumentException.class, () -> FeatureMapper.load(file, model("OPTForCausalLM", 50272, 16)));
        assertTrue(wider.getMessage().contains("input width 8") && wider.getMessage().contains("input width 16"), wider.getMessage());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> FeatureMapper.load(file, model("LlamaForCausalLM", 32000, 8)));
        assertTrue(other.getMessage().contains("OPTForCausalLM") && other.getMessage().contains("LlamaForCausalLM"), other.getMessage());
    }

    @Test
    void referenceCheckpointOfAnotherWidthIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FeatureMapper.load(RESOURCES.resolve("reference_linear.pkl"), model("OPTForCausalLM", 50272, 16)));
        assertTrue(e.getMessage().contains("24 output rows") && e.getMessage().contains("16"), e.getMessage());
    }

    @Test
    void wrongFeatureSizeIsAnError() {
        FeatureMapper mapper = FeatureMapper.initial(model("OPTForCausalLM", 100, 8), 16, 2, 1);
        assertThrows(IllegalArgumentException.class, () -> mapper.map(new float[15]));
    }
}
