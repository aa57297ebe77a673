package gemel.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsEveryDtypeWithMetadata() throws IOException {
        float[] weights = {0.25f, -1.5f, 3.0f, 1e-3f, 65504f, -0f};
        float[] bias = {1.0f, -2.0f, 0.5f};
        Path file = dir.resolve("m.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt").metadata("note", "mapper step 40")
                .add("w", DType.F32, new long[]{2, 3}, weights)
                .add("h", DType.F16, new long[]{6}, weights)
                .add("b", DType.BF16, new long[]{3}, bias)
                .addBytes("raw", DType.F16, new long[]{1}, new byte[]{0x00, 0x3C}) // 1.0 in fp16
                .write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt", "note", "mapper step 40"), f.metadata());
            assertEquals(List.of("w", "h", "b", "raw"), List.copyOf(f.names()));
            assertArrayEquals(new long[]{2, 3}, f.tensor("w").shape());
            assertArrayEquals(weights, f.tensor("w").toFloats());
            float[] half = f.tensor("h").toFloats();
            for (int i = 0; i < weights.length; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(weights[i])), half[i]);
            assertEquals(DType.BF16, f.tensor("b").dtype());
            assertArrayEquals(bias, f.tensor("b").toFloats()); // all exactly representable in bf16
            assertArrayEquals(new float[]{1.0f}, f.tensor("raw").toFloats());
        }
        long headerLength = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8, "data must start 8-byte aligned");
    }

    @Test
    void copiesStoredTensorsAndReplacesAtomically() throws IOException {
        Path first = dir.resolve("a.safetensors");
        new SafetensorsWriter().add("x", DType.BF16, new long[]{2}, new float[]{1f, 2f}).write(first);
        Path second = dir.resolve("b.safetensors");
        try (SafetensorsFile a = SafetensorsFile.open(first)) {
            new SafetensorsWriter().add("y", a.tensor("x")).write(second);
            // replacing a file that is mapped leaves the mapping readable (the old inode lives on)
            new SafetensorsWriter().add("x", DType.F32, new long[]{1}, new float[]{7f}).write(first);
            assertArrayEquals(new float[]{1f, 2f}, a.tensor("x").toFloats());
        }
        try (SafetensorsFile b = SafetensorsFile.open(second); SafetensorsFile a = SafetensorsFile.open(first)) {
            assertEquals(DType.BF16, b.tensor("y").dtype());
            assertArrayEquals(new float[]{1f, 2f}, b.tensor("y").toFloats());
            assertArrayEquals(new float[]{7f}, a.tensor("x").toFloats());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("a.safetensors", "b.safetensors"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void bfloat16RoundsToNearestEven() {
        // 1 + 2^-8 lies exactly between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one (1).
        assertEquals(1.0f, bf16(1f + 0x1p-8f));
        // 1 + 3*2^-8 lies between 1 + 2^-7 (odd) and 1 + 2^-6 (even): goes up.
        assertEquals(1f + 0x1p-6f, bf16(1f + 3 * 0x1p-8f));
        assertEquals(1f + 0x1p-7f, bf16(1f + 0x1p-7f + 0x1p-10f));
        assertEquals(Float.POSITIVE_INFINITY, bf16(Float.MAX_VALUE));
        assertTrue(Float.isNaN(bf16(Float.NaN)));
    }

    private static float bf16(float v) {
        return Float.intBitsToFloat((SafetensorsWriter.toBFloat16(v) & 0xffff) << 16);
    }

    @Test
    void refusesInconsistentTensorsAndKeepsTheTarget() throws IOException {
        Path file = dir.resolve("keep.safetensors");
        Files.writeString(file, "old");
        SafetensorsWriter writer = new SafetensorsWriter();
        String msg = assertThrows(IllegalArgumentException.class,
                () -> writer.add("w", DType.F32, new long[]{2, 2}, new float[3])).getMessage();
        assertTrue(msg.contains("tensor w") && msg.contains("3"), msg);
        writer.add("w", DType.F32, new long[]{3}, new float[3]);
        assertThrows(IllegalArgumentException.class, () -> writer.add("w", DType.F32, new long[]{1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> writer.add("__metadata__", DType.F32, new long[]{1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> writer.addBytes("odd", DType.F16, new long[]{1}, new byte[3]));
        assertEquals("old", Files.readString(file));
    }
}
