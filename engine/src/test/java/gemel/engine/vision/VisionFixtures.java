package gemel.engine.vision;

import gemel.engine.io.NpyArray;
import gemel.engine.io.NpyFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/** Paths of the golden fixtures made by tools/fixtures/vision/make_vision_fixtures.py, and helpers to compare with them. */
final class VisionFixtures {
    private VisionFixtures() {}

    static Path dir() { return Path.of(System.getProperty("gemel.root", ".")).resolve("engine/src/test/resources/vision"); }

    static Path sharedImages() { return Path.of(System.getProperty("gemel.shared", "../shared")).resolve("data/wikimel/images"); }

    /** A float32 .npy fixture. */
    static NpyArray npy(String name) { return NpyFile.read(dir().resolve(name)); }

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
