package gemel.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.tensor.DType;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads the checkpoints tools/fixtures/io/make_torch_files.py saved with torch, against the values it recorded. */
class TorchCheckpointTest {
    private static final Path FIXTURES = fixtures();
    private static final JsonNode EXPECTED = expected();

    @TempDir
    Path dir;

    private static Path fixtures() {
        try {
            return Path.of(TorchCheckpointTest.class.getResource("/io/torch/expected.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode expected() {
        try {
            return new ObjectMapper().readTree(FIXTURES.resolve("expected.json").toFile());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every float tensor the script recorded for {@code file} reads back with the same dtype, shape and values. */
    private static void assertMatchesTorch(String file, WeightSource weights) {
        JsonNode tensors = EXPECTED.get(file);
        assertTrue(tensors != null && !tensors.isEmpty(), file);
        for (Map.Entry<String, JsonNode> e : tensors.properties()) {
            TensorView view = weights.tensor(e.getKey());
            JsonNode spec = e.getValue();
            assertEquals(DType.valueOf(spec.get("dtype").asText()), view.dtype(), e.getKey());
            long[] shape = new long[spec.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = spec.get("shape").get(i).asLong();
            assertArrayEquals(shape, view.shape(), e.getKey());
            float[] values = new float[spec.get("values").size()];
            for (int i = 0; i < values.length; i++) values[i] = (float) spec.get("values").get(i).asDouble();
            assertArrayEquals(values, view.toFloats(), e.getKey()); // exact: every stored value is a float
        }
    }

    private static String openError(Path file) {
        return assertThrows(IllegalArgumentException.class, () -> TorchCheckpoint.open(file)).getMessage();
    }

    @Test
    void stateDictOfEveryDtypeWithOffsetViewsOfASharedStorage() {
        try (TorchCheckpoint c = TorchCheckpoint.open(FIXTURES.resolve("state_dict.bin"))) {
            assertEquals(List.of("dense.weight", "half.view_at_3", "half.view_at_1", "bf16.weight", "param", "scalar",
                    "position_ids", "transposed"), List.copyOf(c.names()));
            assertMatchesTorch("state_dict.bin", c);
            // the two fp16 views are slices of one mapped storage entry, not copies
            TensorView at3 = c.tensor("half.view_at_3"), at1 = c.tensor("half.view_at_1");
            assertEquals(2 * 2, at3.data().address() - at1.data().address());
        }
    }

    @Test
    void unreadableTensorsFailOnlyWhenAsked() {
        try (TorchCheckpoint c = TorchCheckpoint.open(FIXTURES.resolve("state_dict.bin"))) {
            String longs = assertThrows(IllegalArgumentException.class, () -> c.tensor("position_ids")).getMessage();
            assertTrue(longs.contains("position_ids") && longs.contains("LongStorage"), longs);
            String strided = assertThrows(IllegalArgumentException.class, () -> c.tensor("transposed")).getMessage();
            assertTrue(strided.contains("transposed") && strided.contains("not contiguous"), strided);
            String missing = assertThrows(IllegalArgumentException.class, () -> c.tensor("nope")).getMessage();
            assertTrue(missing.contains("nope") && missing.contains("state_dict.bin"), missing);
        }
    }

    @Test
    void halfPrecisionLinearSavedAsPkl() {
        try (WeightSource mapper = Checkpoint.open(FIXTURES.resolve("mapper.pkl"))) {
            assertEquals(Set.of("weight", "bias"), mapper.names());
            assertArrayEquals(new long[]{6, 4}, mapper.tensor("weight").shape());
            assertMatchesTorch("mapper.pkl", mapper);
        }
    }

    @Test
    void zip64ArchiveAsLargeCheckpointsUse() {
        try (WeightSource mapper = TorchCheckpoint.open(FIXTURES.resolve("mapper_zip64.pkl"))) {
            assertMatchesTorch("mapper.pkl", mapper);
        }
    }

    @Test
    void shardedBinFolder() {
        Path folder = FIXTURES.resolve("sharded");
        try (WeightSource w = Checkpoint.open(folder)) {
            assertEquals(Set.of("layer.0.weight", "layer.0.bias", "layer.1.weight"), w.names());
            assertMatchesTorch("sharded/pytorch_model-00001-of-00002.bin", w);
            assertMatchesTorch("sharded/pytorch_model-00002-of-00002.bin", w);
        }
    }

    @Test
    void shardedBinFolderWithAShardMissing() throws IOException {
        Path folder = FIXTURES.resolve("sharded");
        Files.copy(folder.resolve("pytorch_model.bin.index.json"), dir.resolve("pytorch_model.bin.index.json"));
        Files.copy(folder.resolve("pytorch_model-00001-of-00002.bin"), dir.resolve("pytorch_model-00001-of-00002.bin"));
        String msg = assertThrows(IllegalArgumentException.class, () -> Checkpoint.open(dir)).getMessage();
        assertTrue(msg.contains("pytorch_model-00002-of-00002.bin") && msg.contains("pytorch_model.bin.index.json"), msg);
    }

    @Test
    void refusesPicklesThatRunCode() {
        String system = openError(FIXTURES.resolve("evil_os_system.bin"));
        assertTrue(system.contains("refusing to load os.system") && system.contains("evil_os_system.bin")
                && system.contains("must not run code"), system);
        String fromBytes = openError(FIXTURES.resolve("evil_load_from_bytes.bin"));
        assertTrue(fromBytes.contains("torch.storage._load_from_bytes"), fromBytes);
    }

    @Test
    void refusesLegacyBigEndianAndCompressedFiles() {
        String legacy = openError(FIXTURES.resolve("legacy.bin"));
        assertTrue(legacy.contains("legacy") && legacy.contains("legacy.bin"), legacy);
        String big = openError(FIXTURES.resolve("big_endian.bin"));
        assertTrue(big.contains("big-endian") && big.contains("big_endian.bin"), big);
        String deflated = openError(FIXTURES.resolve("deflated.bin"));
        assertTrue(deflated.contains("compressed") && deflated.contains("deflated/data.pkl"), deflated);
    }

    @Test
    void damagedFilesAreNamed() throws IOException {
        byte[] good = Files.readAllBytes(FIXTURES.resolve("mapper.pkl"));
        Path cut = dir.resolve("cut.bin");
        Files.write(cut, Arrays.copyOf(good, good.length - 30)); // loses the end of central directory record
        String msg = openError(cut);
        assertTrue(msg.contains("cut.bin") && msg.contains("corrupt zip"), msg);
        Path text = dir.resolve("text.bin");
        Files.writeString(text, "hello");
        assertTrue(openError(text).contains("not a PyTorch checkpoint"));
        Path empty = dir.resolve("empty.bin");
        Files.write(empty, new byte[0]);
        assertTrue(openError(empty).contains("empty.bin"));
    }

    @Test
    void everyPrefixOfAValidFileFailsCleanly() throws IOException {
        // truncation anywhere must end in a named error, never in an out-of-bounds access
        byte[] good = Files.readAllBytes(FIXTURES.resolve("mapper.pkl"));
        Set<String> kinds = new HashSet<>();
        for (int n = 0; n < good.length; n += 7) {
            Path part = dir.resolve("part.bin");
            Files.write(part, Arrays.copyOf(good, n));
            String msg = openError(part);
            assertTrue(msg.contains("part.bin"), msg);
            kinds.add(msg.replaceAll(".*part.bin: ", "").replaceAll("[0-9]+", "#"));
        }
        assertTrue(kinds.size() >= 2, kinds.toString());
    }
}
