package gemel.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Against tiny files written by h5py (tools/fixtures/data/make_h5.py) and the values numpy read from them. */
class Hdf5ImageFeaturesTest {
    static final Path DIR = Path.of(System.getProperty("gemel.root", "."), "core", "src", "test", "resources", "data", "features");

    static JsonNode expected() throws IOException {
        return new ObjectMapper().readTree(DIR.resolve("good_expected.json").toFile());
    }

    static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) array.get(i).asDouble();
        return out;
    }

    @Test
    void readsEveryShapeAndDtypeUnderItsKey() throws IOException {
        JsonNode expected = expected();
        try (ImageFeatures f = ImageFeatures.open(DIR.resolve("good.h5"))) {
            assertEquals(expected.get("dim").asInt(), f.dim());
            assertEquals(4, f.size());
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.get("features").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                assertArrayEquals(floats(e.getValue()), f.find(e.getKey()), 0f, e.getKey());
            }
        }
    }

    @Test
    void keysMatchWithOrWithoutExtension() throws IOException {
        JsonNode features = expected().get("features");
        try (ImageFeatures f = ImageFeatures.open(DIR.resolve("good.h5"))) {
            assertArrayEquals(floats(features.get("1097.jpg")), f.find("1097"));        // stored with, asked without
            assertArrayEquals(floats(features.get("13280")), f.find("13280.jpg"));      // stored without, asked with
            String url = "https://upload.wikimedia.org/wikipedia/commons/0/06/Detroit_Lions%2C_2007.jpg";
            assertArrayEquals(floats(features.get(url)), f.find(url.replace(".jpg", "")));
            assertNull(f.find("9999.jpg"));
            assertNull(f.find("https://upload.wikimedia.org/wikipedia/commons/0/06/Other.jpg"));
        }
    }

    @Test
    void unsupportedContentIsAnErrorNamingTheDataset() {
        var e = assertThrows(IllegalArgumentException.class, () -> ImageFeatures.open(DIR.resolve("bad_shape.h5")));
        assertTrue(e.getMessage().contains("'b.jpg' has shape [2, 6]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageFeatures.open(DIR.resolve("mixed_dim.h5")));
        assertTrue(e.getMessage().contains("'b.jpg' has 7 values"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageFeatures.open(DIR.resolve("int_dtype.h5")));
        assertTrue(e.getMessage().contains("'a.jpg' holds int"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageFeatures.open(DIR.resolve("good_expected.json")));
        assertTrue(e.getMessage().contains("unknown image-feature format"), e.getMessage());
    }

    @Test
    void aStemSharedByTwoKeysNeedsTheExtension() throws IOException {
        try (ImageFeatures f = ImageFeatures.open(DIR.resolve("ambiguous_stem.h5"))) {
            assertEquals(6, f.find("a.png").length);
            var e = assertThrows(IllegalArgumentException.class, () -> f.find("a"));
            assertTrue(e.getMessage().contains("matches several stored keys"), e.getMessage());
        }
    }

    @Test
    void readsFilesWrittenByJhdfToo(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path file = dir.resolve("jhdf.hdf5");
        float[] flat = {1f, -2.5f, 3.25f};
        float[][] row = {{0.5f, 0f, -1f}};
        try (io.jhdf.WritableHdfFile w = io.jhdf.HdfFile.write(file)) {
            w.putDataset("a.jpg", flat);
            w.putDataset("b", row);
        }
        try (ImageFeatures f = ImageFeatures.open(file)) {
            assertEquals(3, f.dim());
            assertArrayEquals(flat, f.find("a"));
            assertArrayEquals(row[0], f.find("b.jpg"));
        }
    }

    record Item(String image) {}

    @Test
    void missingKeysFollowThePolicy() throws IOException {
        List<Item> items = List.of(new Item("1097.jpg"), new Item("missing-1.jpg"), new Item("2083"),
                new Item("missing-2.jpg"), new Item("missing-1.jpg"));
        try (ImageFeatures f = ImageFeatures.open(DIR.resolve("good.h5"))) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> FeatureLookup.resolve(f, items, Item::image, MissingFeaturePolicy.FAIL));
            assertTrue(e.getMessage().startsWith("3 of 5 records (2 distinct images) have no image feature, e.g. [missing-1.jpg, missing-2.jpg]"),
                    e.getMessage());

            FeatureLookup skip = FeatureLookup.resolve(f, items, Item::image, MissingFeaturePolicy.SKIP_RECORD);
            assertArrayEquals(new int[] {0, 2}, skip.keptIndices());
            assertArrayEquals(f.find("2083.jpg"), skip.vectors()[1]);
            assertEquals(3, skip.missingItems());

            FeatureLookup zero = FeatureLookup.resolve(f, items, Item::image, MissingFeaturePolicy.ZERO_VECTOR);
            assertArrayEquals(new int[] {0, 1, 2, 3, 4}, zero.keptIndices());
            assertArrayEquals(new float[6], zero.vectors()[3]);
            assertArrayEquals(f.find("1097"), zero.vectors()[0]);
            assertEquals(List.of("missing-1.jpg", "missing-2.jpg"), zero.missingKeys());
        }
    }
}
