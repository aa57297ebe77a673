package gemel.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @TempDir
    Path dir;

    private void shard(String file, String... names) {
        SafetensorsWriter w = new SafetensorsWriter();
        for (int i = 0; i < names.length; i++) w.add(names[i], DType.F32, new long[]{1}, new float[]{i + 10 * names.length});
        w.write(dir.resolve(file));
    }

    private void index(String file, String weightMapJson) throws IOException {
        Files.writeString(dir.resolve(file), "{\"metadata\":{\"total_size\":12},\"weight_map\":" + weightMapJson + "}");
    }

    @Test
    void singleSafetensorsFolderIsPreferredOverBin() throws IOException {
        shard("model.safetensors", "a", "b");
        Files.writeString(dir.resolve("pytorch_model.bin"), "not a zip: must not be read");
        try (WeightSource w = Checkpoint.open(dir)) {
            assertEquals(Set.of("a", "b"), w.names());
            assertArrayEquals(new float[]{21f}, w.tensor("b").toFloats());
            String msg = assertThrows(IllegalArgumentException.class, () -> w.tensor("c")).getMessage();
            assertTrue(msg.contains("c") && msg.contains(dir.toString()), msg);
        }
    }

    @Test
    void shardedSafetensorsFolder() throws IOException {
        shard("model-00001-of-00002.safetensors", "a", "b");
        shard("model-00002-of-00002.safetensors", "c");
        index("model.safetensors.index.json", "{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
                + "\"c\":\"model-00002-of-00002.safetensors\"}");
        WeightSource w = Checkpoint.open(dir);
        assertEquals(Set.of("a", "b", "c"), w.names());
        assertArrayEquals(new float[]{20f}, w.tensor("a").toFloats());
        TensorView c = w.tensor("c");
        assertArrayEquals(new float[]{10f}, c.toFloats());
        String msg = assertThrows(IllegalArgumentException.class, () -> w.tensor("d")).getMessage();
        assertTrue(msg.contains("no tensor d") && msg.contains(dir.getFileName().toString()), msg);
        w.close();
        assertThrows(IllegalStateException.class, c::toFloats, "closing must unmap every shard");
    }

    @Test
    void missingShardIsNamedWithTheIndex() throws IOException {
        shard("model-00001-of-00002.safetensors", "a");
        index("model.safetensors.index.json", "{\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"}");
        String msg = assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(dir)).getMessage();
        assertTrue(msg.contains("model-00002-of-00002.safetensors") && msg.contains("model.safetensors.index.json"), msg);
    }

    @Test
    void tensorTheShardLacksIsNamedWithTheShard() throws IOException {
        shard("model-00001-of-00001.safetensors", "a");
        index("model.safetensors.index.json", "{\"a\":\"model-00001-of-00001.safetensors\",\"ghost\":\"model-00001-of-00001.safetensors\"}");
        String msg = assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(dir)).getMessage();
        assertTrue(msg.contains("ghost") && msg.contains("model-00001-of-00001.safetensors"), msg);
    }

    @Test
    void shardOutsideTheFolderIsRefused() throws IOException {
        index("model.safetensors.index.json", "{\"a\":\"../elsewhere.safetensors\"}");
        String msg = assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(dir)).getMessage();
        assertTrue(msg.contains("../elsewhere.safetensors"), msg);
    }

    @Test
    void badIndexJson() throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": [");
        String msg = assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(dir)).getMessage();
        assertTrue(msg.contains("model.safetensors.index.json") && msg.contains("JSON"), msg);
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\":{}}");
        msg = assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(dir)).getMessage();
        assertTrue(msg.contains("weight_map"), msg);
    }

    @Test
    void folderWithoutWeights() {
        String msg = assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(dir)).getMessage();
        assertTrue(msg.contains("no weights in") && msg.contains("model.safetensors"), msg);
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(dir.resolve("nope")));
    }

    @Test
    void singleFileByPath() {
        shard("mapper.safetensors", "weight");
        try (WeightSource w = Checkpoint.open(dir.resolve("mapper.safetensors"))) {
            assertArrayEquals(new float[]{10f}, w.tensor("weight").toFloats());
        }
    }
}
