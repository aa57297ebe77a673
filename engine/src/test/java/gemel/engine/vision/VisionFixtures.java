package gemel.engine.vision;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Paths of the golden fixtures made by tools/fixtures/vision/make_vision_fixtures.py, and a reader for its .npy files. */
final class VisionFixtures {
    private VisionFixtures() {}

    static Path dir() { return Path.of(System.getProperty("gemel.root", ".")).resolve("engine/src/test/resources/vision"); }

    static Path sharedImages() { return Path.of(System.getProperty("gemel.shared", "../shared")).resolve("data/wikimel/images"); }

    /** A little-endian float32 .npy array: its shape and values. */
    record Npy(int[] shape, float[] data) {
        int size(int axis) { return shape[axis]; }
    }

    static Npy npy(String name) throws IOException {
        byte[] b = Files.readAllBytes(dir().resolve(name));
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (b[0] != (byte) 0x93 || !new String(b, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) throw new IOException(name + ": not .npy");
        int major = b[6];
        int headerLen = major == 1 ? buf.getShort(8) & 0xffff : buf.getInt(8);
        int start = major == 1 ? 10 : 12;
        String header = new String(b, start, headerLen, StandardCharsets.US_ASCII);
        if (!header.contains("'descr': '<f4'") || header.contains("'fortran_order': True"))
            throw new IOException(name + ": expected C-order <f4, header " + header);
        Matcher m = Pattern.compile("'shape': \\(([^)]*)\\)").matcher(header);
        if (!m.find()) throw new IOException(name + ": no shape in " + header);
        int[] shape = Arrays.stream(m.group(1).split(",")).map(String::trim).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray();
        float[] data = new float[Arrays.stream(shape).reduce(1, (x, y) -> x * y)];
        buf.position(start + headerLen).asFloatBuffer().get(data);
        return new Npy(shape, data);
    }

    static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] littleEndian(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b.array();
    }
}
