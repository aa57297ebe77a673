package gemel.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A folder of feature files (parts written on several machines) read as one. */
class FeaturePartsTest {
    @TempDir
    Path dir;

    private static float[] vector(int seed, int dim) {
        float[] v = new float[dim];
        for (int i = 0; i < dim; i++) v[i] = seed + i / 8f;
        return v;
    }

    private static void store(Path file, int dim, String... keys) throws IOException {
        try (FeatureStoreWriter w = new FeatureStoreWriter(file, dim)) {
            for (String k : keys) w.add(k, vector(k.hashCode() % 100, dim));
            w.commit();
        }
    }

    @Test
    void partsOfBothFormatsAnswerAsOneFile() throws IOException {
        Path parts = Files.createDirectories(dir.resolve("parts"));
        store(parts.resolve("part-0" + FeatureStore.EXTENSION), 4, "a.jpg", "c.jpg");
        Map<String, float[]> hdf5 = new LinkedHashMap<>();
        hdf5.put("b", vector("b.jpg".hashCode() % 100, 4));
        Hdf5FeatureWriter.write(parts.resolve("part-1.hdf5"), hdf5, Hdf5FeatureWriter.Shape.VECTOR);
        Files.writeString(parts.resolve("notes.txt"), "not a feature file: left out");
        try (ImageFeatures f = ImageFeatures.open(parts)) {
            assertEquals(4, f.dim());
            assertEquals(3, f.size());
            for (String k : new String[] {"a.jpg", "b.jpg", "c.jpg"}) assertArrayEquals(vector(k.hashCode() % 100, 4), f.find(k), k);
            assertNull(f.find("d.jpg"));
        }
    }

    @Test
    void partsThatDisagreeOrOverlapAreErrorsNamingThem() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        var none = assertThrows(IllegalArgumentException.class, () -> ImageFeatures.open(empty));
        assertTrue(none.getMessage().contains("no feature files"), none.getMessage());

        Path widths = Files.createDirectories(dir.resolve("widths"));
        store(widths.resolve("a" + FeatureStore.EXTENSION), 4, "x");
        store(widths.resolve("b" + FeatureStore.EXTENSION), 8, "y");
        var width = assertThrows(IllegalArgumentException.class, () -> ImageFeatures.open(widths));
        assertTrue(width.getMessage().contains("of 8 values") && width.getMessage().contains("of 4"), width.getMessage());

        Path twice = Files.createDirectories(dir.resolve("twice"));
        store(twice.resolve("a" + FeatureStore.EXTENSION), 4, "x", "y");
        store(twice.resolve("b" + FeatureStore.EXTENSION), 4, "y", "z");
        try (ImageFeatures f = ImageFeatures.open(twice)) {
            assertArrayEquals(vector("x".hashCode() % 100, 4), f.find("x"));
            var both = assertThrows(IllegalStateException.class, () -> f.find("y"));
            assertTrue(both.getMessage().contains("'y' has features in both a" + FeatureStore.EXTENSION + " and b"), both.getMessage());
        }
    }
}
