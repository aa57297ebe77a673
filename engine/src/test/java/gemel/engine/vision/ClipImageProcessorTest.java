package gemel.engine.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

class ClipImageProcessorTest {
    /** openai/clip-vit-large-patch14's preprocessor_config.json, in its old feature-extractor spelling. */
    private static final String LARGE_PATCH14 = """
            {"crop_size": 224, "do_center_crop": true, "do_normalize": true, "do_resize": true,
             "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": [0.48145466, 0.4578275, 0.40821073],
             "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 224}""";

    private static ClipImageProcessor processor(String json) throws Exception {
        return ClipImageProcessor.of(Path.of("preprocessor_config.json"), new ObjectMapper().readTree(json));
    }

    /**
     * The 12 real WikiMEL images (230x349 .. 3168x4752): the 224x224 8-bit crops are identical to
     * Pillow + transformers' steps, and the float pixel tensors are bit-identical (sha256 of float32).
     */
    @Test
    void realImagesGiveTheReferencePixelsExactly() throws Exception {
        ClipImageProcessor p = processor(LARGE_PATCH14);
        JsonNode images = new ObjectMapper().readTree(VisionFixtures.dir().resolve("wikimel_pixels.json").toFile()).get("images");
        byte[] crops;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(VisionFixtures.dir().resolve("wikimel_crops_224.u8.gz")))) {
            crops = in.readAllBytes();
        }
        int n = 224 * 224 * 3;
        assertEquals(12 * n, crops.length);
        ImageDecoder decoder = ImageDecoder.pillowLimits();
        for (int i = 0; i < images.size(); i++) {
            JsonNode rec = images.get(i);
            String file = rec.get("file").asText();
            RgbImage image = decoder.read(VisionFixtures.sharedImages().resolve(file));
            int[] hw = ClipImageProcessor.shortestEdgeSize(image.height(), image.width(), 224);
            assertEquals(rec.get("resized").get(0).asInt(), hw[0], file);
            assertEquals(rec.get("resized").get(1).asInt(), hw[1], file);
            RgbImage crop = p.resizeAndCrop(image);
            byte[] expected = Arrays.copyOfRange(crops, i * n, (i + 1) * n);
            int differing = 0;
            for (int k = 0; k < n; k++) if (expected[k] != crop.pixels()[k]) differing++;
            assertEquals(0, differing, file + ": 8-bit values differing from Pillow's crop");
            float[] pixels = p.pixelValues(image);
            assertEquals(3 * 224 * 224, pixels.length);
            assertEquals(rec.get("pixel_values_sha256").asText(), VisionFixtures.sha256(VisionFixtures.littleEndian(pixels)), file);
        }
    }

    /** Exact-size resize, no crop, padding crop, bilinear and lanczos, scalar mean/std, no rescale, no normalize: bit-identical. */
    @Test
    void otherConfigsGiveTheReferencePixelsExactly() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode cases = json.readTree(VisionFixtures.dir().resolve("processor_variants.json").toFile());
        assertEquals(8, cases.size());
        for (JsonNode c : cases) {
            ClipImageProcessor p = ClipImageProcessor.of(Path.of("preprocessor_config.json"), c.get("config"));
            RgbImage image = ImageDecoder.pillowLimits().read(VisionFixtures.sharedImages().resolve(c.get("image").asText()));
            String what = c.get("image").asText() + " with " + c.get("config");
            RgbImage crop = p.resizeAndCrop(image);
            assertEquals(c.get("shape").get(1).asInt(), crop.height(), what);
            assertEquals(c.get("shape").get(2).asInt(), crop.width(), what);
            assertEquals(c.get("crop_sha256").asText(), VisionFixtures.sha256(crop.pixels()), what);
            assertEquals(c.get("pixel_values_sha256").asText(), VisionFixtures.sha256(VisionFixtures.littleEndian(p.pixelValues(image))), what);
        }
    }

    @Test
    void outputSizeFollowsTransformersRounding() {
        assertArrayEquals(new int[] {224, 397}, ClipImageProcessor.shortestEdgeSize(451, 800, 224)); // int(224*800/451) = 397
        assertArrayEquals(new int[] {339, 224}, ClipImageProcessor.shortestEdgeSize(349, 230, 224)); // int(339.89...) = 339
        assertArrayEquals(new int[] {224, 224}, ClipImageProcessor.shortestEdgeSize(500, 500, 224));
    }

    /** An image smaller than the crop is zero-padded centred (the extra pixel before it), as transformers does. */
    @Test
    void smallImagesArePaddedWithZeros() {
        byte[] px = new byte[3 * 2 * 3];
        Arrays.fill(px, (byte) 200);
        RgbImage crop = ClipImageProcessor.centerCrop(new RgbImage(3, 2, px), 5, 6);
        // transformers: new 5x6 canvas, image at top_pad = ceil(3/2) = 2, left_pad = ceil(3/2) = 2
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 6; x++)
                assertEquals(y >= 2 && y < 4 && x >= 2 && x < 5 ? 200 : 0, crop.get(x, y, 0), "pixel " + x + "," + y);
    }

    @Test
    void configErrorsNameTheKey() {
        var e = assertThrows(IllegalArgumentException.class, () -> processor("{\"size\": {\"longest_edge\": 3}}"));
        assertTrue(e.getMessage().contains("\"size\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> processor("{\"resample\": 0}"));
        assertTrue(e.getMessage().contains("resample"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> processor("{\"image_mean\": [1, 2]}"));
        assertTrue(e.getMessage().contains("image_mean"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ClipImageProcessor.load(Path.of("/nonexistent-dir")));
        assertTrue(e.getMessage().contains("preprocessor_config.json"), e.getMessage());
    }
}
