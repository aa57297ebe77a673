package gemel.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureStoreTest {
    @TempDir
    Path dir;

    @Test
    void writtenVectorsReadBackThroughTheMapping() throws IOException {
        Random rnd = new Random(7);
        List<String> keys = List.of("1097.jpg", "https://u.org/a/b%20c.jpg", "Wikidata/Q1.png", "ü.jpg");
        float[][] rows = new float[keys.size()][5];
        for (float[] r : rows) for (int i = 0; i < r.length; i++) r[i] = (float) rnd.nextGaussian();
        Path file = dir.resolve("f" + FeatureStore.EXTENSION);
        try (FeatureStoreWriter w = new FeatureStoreWriter(file, 5)) {
            for (int i = 0; i < keys.size(); i++) w.add(keys.get(i), rows[i]);
            w.commit();
        }
        // an independent read of the layout: header, then row 2's floats at 64 + 2 * 5 * 4
        ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(5, raw.getInt(8));
        assertEquals(4, raw.getInt(12));
        assertEquals(rows[2][3], raw.getFloat(64 + (2 * 5 + 3) * 4));

        try (ImageFeatures f = ImageFeatures.open(file)) {
            assertEquals(5, f.dim());
            assertEquals(4, f.size());
            for (int i = 0; i < keys.size(); i++) assertArrayEquals(rows[i], f.find(keys.get(i)), keys.get(i));
            assertArrayEquals(rows[0], f.find("1097"));
            assertArrayEquals(rows[1], f.find("https://u.org/a/b%20c"));
            assertNull(f.find("1098.jpg"));
        }
    }

    @Test
    void closingWithoutCommitLeavesTheOldFile() throws IOException {
        Path file = dir.resolve("f.gfeat");
        try (FeatureStoreWriter w = new FeatureStoreWriter(file, 2)) {
            w.add("a", new float[] {1, 2});
            w.commit();
        }
        try (FeatureStoreWriter w = new FeatureStoreWriter(file, 2)) {
            w.add("b", new float[] {3, 4});
            assertThrows(IllegalArgumentException.class, () -> w.add("b", new float[] {5, 6}));
            assertThrows(IllegalArgumentException.class, () -> w.add("c", new float[] {5}));
        }
        try (FeatureStore f = FeatureStore.open(file)) {
            assertEquals(List.of("a"), f.keys());
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "temporary files are removed");
        }
    }

    @Test
    void damagedFilesAreRefusedByName() throws IOException {
        Path file = dir.resolve("f.gfeat");
        try (FeatureStoreWriter w = new FeatureStoreWriter(file, 3)) {
            w.add("a", new float[] {1, 2, 3});
            w.commit();
        }
        byte[] bytes = Files.readAllBytes(file);
        Path truncated = dir.resolve("t.gfeat");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 1));
        var e = assertThrows(IllegalArgumentException.class, () -> FeatureStore.open(truncated));
        assertTrue(e.getMessage().contains("t.gfeat"), e.getMessage());
        Path notStore = dir.resolve("n.gfeat");
        Files.writeString(notStore, "hello");
        e = assertThrows(IllegalArgumentException.class, () -> FeatureStore.open(notStore));
        assertTrue(e.getMessage().contains("not a gemel feature store"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("missing.gfeat")));
    }

    @Test
    void hdf5ContentCopiedIntoAStoreReadsTheSame() throws IOException {
        Path file = dir.resolve("copy.gfeat");
        try (Hdf5ImageFeatures h5 = Hdf5ImageFeatures.open(Hdf5ImageFeaturesTest.DIR.resolve("good.h5"));
             FeatureStoreWriter w = new FeatureStoreWriter(file, h5.dim())) {
            for (String key : List.of("1097.jpg", "13280", "2083.jpg")) w.add(key, h5.find(key));
            w.commit();
            try (FeatureStore store = FeatureStore.open(file)) {
                for (String key : List.of("1097", "13280.jpg", "2083")) assertArrayEquals(h5.find(key), store.find(key));
            }
        }
    }
}
