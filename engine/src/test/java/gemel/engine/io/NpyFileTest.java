package gemel.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads .npy files numpy wrote (tools/fixtures/io/make_npy_files.py) and writes byte-identical ones. */
class NpyFileTest {
    @TempDir
    Path dir;

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(NpyFileTest.class.getResource("/io/npy/" + name).toURI());
    }

    private static JsonNode expected(String name) throws Exception {
        return new ObjectMapper().readTree(fixture("expected.json").toFile()).get(name);
    }

    private static long[] shape(JsonNode spec) {
        long[] shape = new long[spec.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = spec.get("shape").get(i).asLong();
        return shape;
    }

    @Test
    void readsFloat32AndWritesWhatNumpyWrites() throws Exception {
        for (String name : new String[]{"f4.npy", "f4_scalar.npy", "f4_empty.npy"}) {
            JsonNode spec = expected(name);
            NpyArray a = NpyFile.read(fixture(name));
            assertEquals("<f4", a.descr());
            assertArrayEquals(shape(spec), a.shape(), name);
            float[] values = a.floats();
            assertEquals(spec.get("values").size(), values.length, name);
            for (int i = 0; i < values.length; i++) assertEquals((float) spec.get("values").get(i).asDouble(), values[i], name);
            Path copy = dir.resolve(name);
            NpyFile.write(copy, a.shape(), values);
            assertArrayEquals(Files.readAllBytes(fixture(name)), Files.readAllBytes(copy), name + " differs from numpy's bytes");
        }
    }

    @Test
    void readsIntegersAndWritesInt32AsNumpyDoes() throws Exception {
        JsonNode i4 = expected("i4.npy");
        NpyArray a = NpyFile.read(fixture("i4.npy"));
        int[] ints = a.ints();
        for (int i = 0; i < ints.length; i++) assertEquals(i4.get("values").get(i).asLong(), ints[i]);
        assertEquals(ints[3], a.longs()[3]);
        Path copy = dir.resolve("i4.npy");
        NpyFile.write(copy, a.shape(), ints);
        assertArrayEquals(Files.readAllBytes(fixture("i4.npy")), Files.readAllBytes(copy));

        JsonNode i8 = expected("i8_v2.npy");
        NpyArray b = NpyFile.read(fixture("i8_v2.npy")); // version 2 header
        assertArrayEquals(new long[]{2, 2}, b.shape());
        long[] longs = b.longs();
        for (int i = 0; i < longs.length; i++) assertEquals(i8.get("values").get(i).asLong(), longs[i]);
        assertEquals((int) longs[3], b.ints()[3]);

        NpyArray wide = NpyFile.read(fixture("i8_wide.npy"));
        assertEquals(1L << 40, wide.longs()[1]);
        String msg = assertThrows(IllegalArgumentException.class, wide::ints).getMessage();
        assertTrue(msg.contains("element 1") && msg.contains("i8_wide.npy"), msg);
        assertTrue(assertThrows(IllegalArgumentException.class, b::floats).getMessage().contains("<i8"));
    }

    @Test
    void refusesFortranOrderAndOtherDtypes() {
        String fortran = assertThrows(IllegalArgumentException.class, () -> NpyFile.read(fixture("fortran.npy"))).getMessage();
        assertTrue(fortran.contains("fortran_order") && fortran.contains("fortran.npy"), fortran);
        String f8 = assertThrows(IllegalArgumentException.class, () -> NpyFile.read(fixture("f8.npy"))).getMessage();
        assertTrue(f8.contains("<f8") && f8.contains("f8.npy"), f8);
    }

    /** A version-1 file with the given header dict and {@code dataBytes} zero bytes of data. */
    private Path npy(String dict, int dataBytes) throws IOException {
        byte[] text = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[10 + text.length + dataBytes];
        byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) text.length, (byte) (text.length >> 8)};
        System.arraycopy(magic, 0, out, 0, 10);
        System.arraycopy(text, 0, out, 10, text.length);
        Path file = dir.resolve("bad.npy");
        Files.write(file, out);
        return file;
    }

    private static String readError(Path file) {
        return assertThrows(IllegalArgumentException.class, () -> NpyFile.read(file)).getMessage();
    }

    @Test
    void malformedFilesAreNamed() throws IOException {
        assertTrue(readError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20)).contains("needs 24 bytes"));
        assertTrue(readError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 28)).contains("needs 24 bytes"));
        assertTrue(readError(npy("{'descr': '<f4', 'fortran_order': False, }", 0)).contains("'shape'"));
        assertTrue(readError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 0)).contains("negative"));
        assertTrue(readError(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }", 0)).contains("not a tuple of integers"));
        assertTrue(readError(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", 4)).contains(">f4"));
        assertTrue(readError(npy("'descr'", 0)).contains("not a dict"));
        Path notNpy = dir.resolve("x.npy");
        Files.writeString(notNpy, "PK this is no array");
        String msg = readError(notNpy);
        assertTrue(msg.contains("x.npy") && msg.contains("magic"), msg);
        Path cut = dir.resolve("cut.npy");
        Files.write(cut, new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 100, 0, '{'});
        assertTrue(readError(cut).contains("runs past the end"));
    }

    @Test
    void writeRefusesAShapeThatDisagrees() {
        Path file = dir.resolve("w.npy");
        String msg = assertThrows(IllegalArgumentException.class, () -> NpyFile.write(file, new long[]{2, 2}, new float[3])).getMessage();
        assertTrue(msg.contains("w.npy") && msg.contains("holds 4 values"), msg);
        assertTrue(Files.notExists(file));
    }
}
