package gemel.engine.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.io.NpyArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tiny random CLIP of make_vision_fixtures.py against its plain-torch reference, at 1e-4. */
class ClipVisionEncoderTest {
    private static final double TOLERANCE = 1e-4;

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double max = 0;
        int worst = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            if (d > max) {
                max = d;
                worst = i;
            }
        }
        assertTrue(max <= tol, what + ": max abs difference " + max + " at " + worst + " (expected " + (worst < 0 ? 0 : expected[worst])
                + ", got " + (worst < 0 ? 0 : actual[worst]) + "), tolerance " + tol);
    }

    @Test
    void clipModelCheckpointMatchesTorch() {
        NpyArray pixels = VisionFixtures.npy("tiny_clip_pixels.npy");
        try (ClipVisionEncoder encoder = ClipVisionEncoder.load(VisionFixtures.dir().resolve("tiny-clip"))) {
            assertEquals(17, encoder.config().tokens());
            assertEquals(16, encoder.projectionDim());
            ClipVisionEncoder.Output out = encoder.encode(pixels.floats(), 3, true);
            assertClose(VisionFixtures.npy("tiny_clip_pooled.npy").floats(), out.pooled(), TOLERANCE, "pooled");
            assertClose(VisionFixtures.npy("tiny_clip_projected.npy").floats(), out.projected(), TOLERANCE, "projected");
            NpyArray hidden = VisionFixtures.npy("tiny_clip_hidden_states.npy"); // [3, layers + 1, 17, 32]
            assertEquals(3, out.hiddenStates().size());
            float[] all = hidden.floats();
            int per = 17 * 32;
            for (int l = 0; l < 3; l++) {
                float[] expected = new float[3 * per];
                for (int b = 0; b < 3; b++) System.arraycopy(all, (b * 3 + l) * per, expected, b * per, per);
                assertClose(expected, out.hiddenStates().get(l), TOLERANCE, "hidden state " + l);
            }
        }
    }

    /** Batching changes nothing: each image alone gives its row of the batched result. */
    @Test
    void imagesAreIndependentOfTheirBatch() {
        float[] pixels = VisionFixtures.npy("tiny_clip_pixels.npy").floats();
        int n = 3 * 56 * 56;
        try (ClipVisionEncoder encoder = ClipVisionEncoder.load(VisionFixtures.dir().resolve("tiny-clip"))) {
            float[] batched = encoder.encode(pixels, 3, false).pooled();
            for (int b = 0; b < 3; b++) {
                float[] alone = encoder.encode(Arrays.copyOfRange(pixels, b * n, (b + 1) * n), 1, false).pooled();
                assertClose(Arrays.copyOfRange(batched, b * 32, (b + 1) * 32), alone, 1e-6, "image " + b);
            }
        }
    }

    /** CLIPVisionModel layout, fp16 weights, int sizes in the preprocessor config: real images end to end. */
    @Test
    void visionModelWithHalfWeightsFromImageFiles() throws Exception {
        Path dir = VisionFixtures.dir().resolve("tiny-clip-vision");
        String[] names = new ObjectMapper().readValue(VisionFixtures.dir().resolve("tiny_clip_images.json").toFile(), String[].class);
        ClipImageProcessor processor = ClipImageProcessor.load(dir);
        ImageDecoder decoder = ImageDecoder.pillowLimits();
        float[] pixels = new float[names.length * 3 * 56 * 56];
        for (int i = 0; i < names.length; i++) {
            float[] one = processor.pixelValues(decoder.read(VisionFixtures.sharedImages().resolve(names[i])));
            System.arraycopy(one, 0, pixels, i * one.length, one.length);
        }
        assertArrayEquals(VisionFixtures.npy("tiny_clip_pixels.npy").floats(), pixels, "pixels from the image files");
        try (ClipVisionEncoder encoder = ClipVisionEncoder.load(dir)) {
            ClipVisionEncoder.Output out = encoder.encode(pixels, names.length, false);
            assertNull(out.projected());
            assertEquals(0, encoder.projectionDim());
            assertTrue(out.hiddenStates().isEmpty());
            assertClose(VisionFixtures.npy("tiny_clip_vision_f16_pooled.npy").floats(), out.pooled(), TOLERANCE, "pooled (fp16 weights)");
        }
    }

    /** CLIPVisionModelWithProjection: the config is the vision config itself, the projection sits at the top level. */
    @Test
    void visionModelWithProjectionLayout(@TempDir Path tmp) throws Exception {
        var json = new ObjectMapper();
        var full = json.readTree(VisionFixtures.dir().resolve("tiny-clip/config.json").toFile());
        var vision = (com.fasterxml.jackson.databind.node.ObjectNode) full.get("vision_config").deepCopy();
        vision.put("projection_dim", 16).putArray("architectures").add("CLIPVisionModelWithProjection");
        Files.writeString(tmp.resolve("config.json"), json.writeValueAsString(vision));
        Files.copy(VisionFixtures.dir().resolve("tiny-clip/model.safetensors"), tmp.resolve("model.safetensors"));
        try (ClipVisionEncoder encoder = ClipVisionEncoder.load(tmp)) {
            ClipVisionEncoder.Output out = encoder.encode(VisionFixtures.npy("tiny_clip_pixels.npy").floats(), 3, false);
            assertClose(VisionFixtures.npy("tiny_clip_pooled.npy").floats(), out.pooled(), TOLERANCE, "pooled");
            assertClose(VisionFixtures.npy("tiny_clip_projected.npy").floats(), out.projected(), TOLERANCE, "projected");
        }
    }

    /** openai/clip-vit-large-patch14's config.json shape: vision_config complete, vision_config_dict with the sizes. */
    @Test
    void readsTheLargePatch14ConfigLayout() throws Exception {
        String json = """
                {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 768,
                 "vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12, "num_hidden_layers": 12,
                                   "patch_size": 32, "image_size": 224, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05},
                 "vision_config_dict": {"hidden_size": 1024, "intermediate_size": 4096, "num_attention_heads": 16,
                                        "num_hidden_layers": 24, "patch_size": 14, "projection_dim": 768}}""";
        ClipVisionConfig c = ClipVisionConfig.from(gemel.engine.config.HfConfig.of(Path.of("config.json"), new ObjectMapper().readTree(json)));
        assertEquals(new ClipVisionConfig(1024, 4096, 16, 24, 224, 14, 3, gemel.engine.kernel.Activation.QUICK_GELU, 1e-5f), c);
        assertEquals(257, c.tokens());
        assertEquals(64, c.headDim());
    }

    @Test
    void wrongInputsAndCheckpointsAreErrors(@TempDir Path tmp) throws Exception {
        try (ClipVisionEncoder encoder = ClipVisionEncoder.load(VisionFixtures.dir().resolve("tiny-clip"))) {
            var e = assertThrows(IllegalArgumentException.class, () -> encoder.encode(new float[100], 1, false));
            assertTrue(e.getMessage().contains("3x56x56"), e.getMessage());
        }
        // a config whose layers do not match the weights names the tensor
        Path dir = tmp.resolve("clip");
        Files.createDirectories(dir);
        Files.copy(VisionFixtures.dir().resolve("tiny-clip/model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), Files.readString(VisionFixtures.dir().resolve("tiny-clip/config.json"))
                .replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3"));
        var e = assertThrows(RuntimeException.class, () -> ClipVisionEncoder.load(dir));
        assertTrue(e.getMessage().contains("encoder.layers.2"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"opt\", \"architectures\": [\"OPTForCausalLM\"]}");
        e = assertThrows(IllegalArgumentException.class, () -> ClipVisionEncoder.load(dir));
        assertTrue(e.getMessage().contains("not a CLIP model"), e.getMessage());
    }
}
