package gemel.engine.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDecoderTest {
    private final ImageDecoder decoder = ImageDecoder.pillowLimits();

    /**
     * Known departures from Pillow, with the largest difference measured: TwelveMonkeys' VP8 decoder
     * reconstructs lossy WebP (chroma upsampling, rounding) differently from libwebp, which Pillow uses.
     */
    private static final java.util.Map<String, Integer> KNOWN_GAPS = java.util.Map.of("lossy.webp", 12);

    /** Every format/mode case decodes to exactly the bytes Pillow's convert("RGB") produced (but the known gaps). */
    @Test
    void decodesLikePillowConvertRgb() throws Exception {
        Path dir = VisionFixtures.dir().resolve("decode");
        JsonNode cases = new ObjectMapper().readTree(dir.resolve("cases.json").toFile());
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (var it = cases.fields(); it.hasNext(); ) {
            var e = it.next();
            RgbImage image = decoder.read(dir.resolve(e.getKey()));
            byte[] expected = Files.readAllBytes(dir.resolve(e.getKey() + ".rgb"));
            assertEquals(e.getValue().get("width").asInt(), image.width(), e.getKey());
            assertEquals(e.getValue().get("height").asInt(), image.height(), e.getKey());
            int differing = 0, maxDiff = 0;
            for (int i = 0; i < expected.length; i++) {
                int d = Math.abs((expected[i] & 0xff) - (image.pixels()[i] & 0xff));
                if (d > 0) differing++;
                maxDiff = Math.max(maxDiff, d);
            }
            if (KNOWN_GAPS.containsKey(e.getKey())) {
                if (maxDiff > KNOWN_GAPS.get(e.getKey()))
                    failures.add(e.getKey() + ": differs from Pillow by up to " + maxDiff + ", more than the known " + KNOWN_GAPS.get(e.getKey()));
            } else if (differing > 0)
                failures.add(e.getKey() + " (Pillow mode " + e.getValue().get("mode").asText() + "): " + differing + " values differ, max " + maxDiff);
            checked++;
        }
        assertEquals(cases.size(), checked);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /** The 12 real WikiMEL JPEGs decode bit for bit as Pillow (libjpeg-turbo) decodes them. */
    @Test
    void realJpegsDecodeLikePillow() throws Exception {
        JsonNode images = new ObjectMapper().readTree(VisionFixtures.dir().resolve("wikimel_pixels.json").toFile()).get("images");
        for (JsonNode rec : images) {
            RgbImage image = decoder.read(VisionFixtures.sharedImages().resolve(rec.get("file").asText()));
            assertEquals(rec.get("decoded_sha256").asText(), VisionFixtures.sha256(image.pixels()), rec.get("file").asText());
        }
    }

    @Test
    void truncatedJpegIsAnErrorNamingTheFile(@TempDir Path tmp) throws Exception {
        byte[] whole = Files.readAllBytes(VisionFixtures.sharedImages().resolve("13295.jpg"));
        Path cut = tmp.resolve("cut.jpg");
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2));
        BadImageException e = assertThrows(BadImageException.class, () -> decoder.read(cut));
        assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("corrupt"), e.getMessage());
    }

    @Test
    void garbageBytesAreAnError(@TempDir Path tmp) throws Exception {
        Path junk = tmp.resolve("junk.jpg");
        byte[] bytes = new byte[4096];
        new java.util.Random(3).nextBytes(bytes);
        bytes[0] = 0x42; // not a JPEG/PNG/GIF/BMP/TIFF/WebP signature
        bytes[1] = 0x13;
        Files.write(junk, bytes);
        BadImageException e = assertThrows(BadImageException.class, () -> decoder.read(junk));
        assertTrue(e.getMessage().contains("junk.jpg") && e.getMessage().contains("not an image"), e.getMessage());
    }

    @Test
    void corruptJpegBodyIsAnError(@TempDir Path tmp) throws Exception {
        byte[] bytes = Files.readAllBytes(VisionFixtures.sharedImages().resolve("13295.jpg"));
        // keep the headers, overwrite the entropy-coded data with junk including stray markers
        for (int i = bytes.length / 3; i < bytes.length - 2; i++) bytes[i] = (byte) (i % 7 == 0 ? 0xff : i * 31);
        Path bad = tmp.resolve("bad.jpg");
        Files.write(bad, bytes);
        BadImageException e = assertThrows(BadImageException.class, () -> decoder.read(bad));
        assertTrue(e.getMessage().startsWith(bad.toString()), e.getMessage());
    }

    @Test
    void hugeDeclaredSizeIsRefusedBeforeDecoding(@TempDir Path tmp) throws Exception {
        Path bomb = tmp.resolve("bomb.png");
        Files.write(bomb, pngHeaderOnly(100_000, 100_000));
        BadImageException e = assertThrows(BadImageException.class, () -> decoder.read(bomb));
        assertTrue(e.getMessage().contains("100000x100000") && e.getMessage().contains("exceeds the limit"), e.getMessage());
        // a limit below a real image's size refuses it too
        BadImageException small = assertThrows(BadImageException.class,
                () -> new ImageDecoder(1000).read(VisionFixtures.sharedImages().resolve("13295.jpg")));
        assertTrue(small.getMessage().contains("230x349"), small.getMessage());
    }

    @Test
    void unsupportedFormatsAndEmptyFilesAreErrors(@TempDir Path tmp) throws Exception {
        Path svg = tmp.resolve("drawing.svg");
        Files.writeString(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>");
        assertTrue(assertThrows(BadImageException.class, () -> decoder.read(svg)).getMessage().contains("not an image in a supported format"));
        Path empty = tmp.resolve("empty.png");
        Files.write(empty, new byte[0]);
        assertTrue(assertThrows(BadImageException.class, () -> decoder.read(empty)).getMessage().contains("empty"));
        Path missing = tmp.resolve("missing.jpg");
        assertTrue(assertThrows(BadImageException.class, () -> decoder.read(missing)).getMessage().contains("missing.jpg"));
    }

    @Test
    void decodesFromMemory() throws Exception {
        Path file = VisionFixtures.dir().resolve("decode/rgb.bmp");
        RgbImage a = decoder.read(file), b = decoder.decode(Files.readAllBytes(file), "memory");
        assertArrayEquals(a.pixels(), b.pixels());
    }

    /** A PNG signature, an IHDR chunk declaring {@code w x h} 8-bit RGB, an empty IDAT and IEND. */
    private static byte[] pngHeaderOnly(int w, int h) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0).array());
        Deflater deflater = new Deflater();
        deflater.setInput(new byte[16]);
        deflater.finish();
        byte[] z = new byte[64];
        chunk(out, "IDAT", java.util.Arrays.copyOf(z, deflater.deflate(z)));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
