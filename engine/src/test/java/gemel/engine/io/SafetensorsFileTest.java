package gemel.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.tensor.DType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    /** A file with the given header text followed by {@code data}, its length prefix set to the header's. */
    private Path file(String header, byte[] data) throws IOException {
        return fileWithLength(header, header.getBytes(StandardCharsets.UTF_8).length, data);
    }

    private Path fileWithLength(String header, long declaredLength, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(declaredLength).array());
        out.write(header.getBytes(StandardCharsets.UTF_8));
        out.write(data);
        Path file = dir.resolve("t.safetensors");
        Files.write(file, out.toByteArray());
        return file;
    }

    private static byte[] le(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) b.putInt(v);
        return b.array();
    }

    private String openError(String header, byte[] data) throws IOException {
        Path file = file(header, data);
        return assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(file)).getMessage();
    }

    @Test
    void readsEachDtypeAtUnalignedOffsets() throws IOException {
        // F32 1.0, -0.5 | F16 1.5 (0x3E00), -2 (0xC000) | BF16 3.0 (0x4040); the header length (odd) leaves
        // every tensor unaligned in the file.
        ByteBuffer data = ByteBuffer.allocate(14).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(1.0f).putFloat(-0.5f).putShort((short) 0x3E00).putShort((short) 0xC000).putShort((short) 0x4040);
        String header = "{\"__metadata__\":{\"format\":\"pt\",\"k\":\"v\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                + "\"c\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[12,14]}}";
        try (SafetensorsFile f = SafetensorsFile.open(file(header + " ", data.array()))) {
            assertEquals(Map.of("format", "pt", "k", "v"), f.metadata());
            assertEquals(java.util.List.of("a", "b", "c"), java.util.List.copyOf(f.names()));
            TensorView a = f.tensor("a");
            assertEquals(DType.F32, a.dtype());
            assertArrayEquals(new long[]{2, 1}, a.shape());
            assertArrayEquals(new float[]{1.0f, -0.5f}, a.toFloats());
            assertArrayEquals(new float[]{1.5f, -2.0f}, f.tensor("b").toFloats());
            assertEquals(DType.BF16, f.tensor("c").dtype());
            assertArrayEquals(new float[]{3.0f}, f.tensor("c").toFloats());
            String missing = assertThrows(IllegalArgumentException.class, () -> f.tensor("zz")).getMessage();
            assertTrue(missing.contains("zz") && missing.contains("t.safetensors"), missing);
        }
    }

    @Test
    void nonWeightDtypesOpenButFailWhenAsked() throws IOException {
        String header = "{\"position_ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]}}";
        try (SafetensorsFile f = SafetensorsFile.open(file(header, new byte[20]))) {
            assertTrue(f.contains("position_ids"));
            assertArrayEquals(new float[]{0f}, f.tensor("w").toFloats());
            String msg = assertThrows(IllegalArgumentException.class, () -> f.tensor("position_ids")).getMessage();
            assertTrue(msg.contains("position_ids") && msg.contains("I64"), msg);
        }
        String f64 = "{\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}";
        try (SafetensorsFile f = SafetensorsFile.open(file(f64, new byte[8]))) {
            String msg = assertThrows(IllegalArgumentException.class, () -> f.tensor("d")).getMessage();
            assertTrue(msg.contains("F64"), msg);
        }
    }

    @Test
    void unknownDtypeIsNamed() throws IOException {
        String msg = openError("{\"w\":{\"dtype\":\"F12\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        assertTrue(msg.contains("F12") && msg.contains("tensor w") && msg.contains("t.safetensors"), msg);
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        Path file = fileWithLength("{}", 1000, new byte[0]);
        String msg = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(file)).getMessage();
        assertTrue(msg.contains("header length 1000") && msg.contains("t.safetensors"), msg);
        Path huge = fileWithLength("{}", -1, new byte[0]);
        assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(huge));
    }

    @Test
    void tooShortFile() throws IOException {
        Path file = dir.resolve("short.safetensors");
        Files.write(file, new byte[]{1, 2, 3});
        String msg = assertThrows(IllegalArgumentException.class, () -> SafetensorsFile.open(file)).getMessage();
        assertTrue(msg.contains("short.safetensors"), msg);
    }

    @Test
    void invalidJson() throws IOException {
        assertTrue(openError("{\"w\": {\"dtype\": ", new byte[0]).contains("not valid JSON"));
        assertTrue(openError("[1,2]", new byte[0]).contains("not a JSON object"));
        String dup = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertTrue(openError(dup, new byte[8]).contains("not valid JSON"));
    }

    @Test
    void reversedOffsets() throws IOException {
        String msg = openError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", new byte[4]);
        assertTrue(msg.contains("reversed") && msg.contains("tensor w"), msg);
    }

    @Test
    void offsetsPastTheEnd() throws IOException {
        String msg = openError("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[4]);
        assertTrue(msg.contains("past the end") && msg.contains("tensor w"), msg);
    }

    @Test
    void overlappingTensors() throws IOException {
        String msg = openError("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]);
        assertTrue(msg.contains("overlaps") && msg.contains("tensor a") && msg.contains("tensor b"), msg);
    }

    @Test
    void shapeDisagreesWithByteLength() throws IOException {
        String msg = openError("{\"w\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
        assertTrue(msg.contains("needs 6 bytes") && msg.contains("tensor w"), msg);
    }

    @Test
    void negativeDimension() throws IOException {
        String msg = openError("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,-4],\"data_offsets\":[0,16]}}", new byte[16]);
        assertTrue(msg.contains("negative dimension") && msg.contains("tensor w"), msg);
    }

    @Test
    void badFieldsAreNamed() throws IOException {
        assertTrue(openError("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]).contains("\"dtype\""));
        assertTrue(openError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]).contains("not an integer"));
        assertTrue(openError("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]).contains("data_offsets"));
        assertTrue(openError("{\"__metadata__\":{\"n\":3}}", new byte[0]).contains("__metadata__ entry n"));
    }

    @Test
    void readsTheSharedStories260kModel() {
        Path model = Path.of(System.getProperty("gemel.shared"), "models", "stories260k", "model.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(model)) {
            TensorView embed = f.tensor("model.embed_tokens.weight");
            assertArrayEquals(new long[]{512, 64}, embed.shape());
            float[] values = embed.toFloats();
            double sumSquares = 0;
            for (float v : values) sumSquares += v * v;
            assertTrue(sumSquares > 0 && Double.isFinite(sumSquares));
            assertTrue(f.names().contains("model.layers.4.mlp.down_proj.weight"), f.names().toString());
        }
    }
}
