package gemel.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.io.NpyFile;
import gemel.features.ImageFeatures;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code gemel features} on the tiny CLIP fixture and three real WikiMEL images (expected rows from PyTorch). */
class FeaturesCommandTest {
    private static final Path VISION = Path.of(System.getProperty("gemel.root", "..")).resolve("engine/src/test/resources/vision");
    private static final Path IMAGES = Path.of(System.getProperty("gemel.shared", "../../shared")).resolve("data/wikimel/images");
    private static final String[] NAMES = {"1097", "13295", "3030"}; // the rows of tiny_clip_pooled.npy
    private static final float[] POOLED = NpyFile.read(VISION.resolve("tiny_clip_pooled.npy")).floats(); // [3, 32]

    private record Run(int exit, String err) {}

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new GemelCli());
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, err.toString());
    }

    private static float[] expected(int row) { return Arrays.copyOfRange(POOLED, row * 32, (row + 1) * 32); }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++)
            assertEquals(expected[i], actual[i], 1e-4, what + " [" + i + "]");
    }

    private static float[] read(HdfFile h, String key) {
        Dataset d = h.getDatasetByPath(key);
        assertArrayEquals(new int[] {32}, d.getDimensions(), key);
        return (float[]) d.getData();
    }

    @Test
    void folderOfImagesWithABrokenOne(@TempDir Path tmp) throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("images"));
        for (String n : NAMES) Files.copy(IMAGES.resolve(n + ".jpg"), folder.resolve(n + ".jpg"));
        Files.write(folder.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Files.writeString(folder.resolve("notes.txt"), "not an image, ignored by extension");
        Path out = tmp.resolve("features.h5");
        Run r = run("features", "--model", VISION.resolve("tiny-clip").toString(), "--images", folder.toString(), "--out", out.toString(), "--batch", "2");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("broken.png"), r.err());
        assertTrue(r.err().contains("3/3 images") || r.err().contains("4/4 images"), "progress line expected: " + r.err());
        try (HdfFile h = new HdfFile(out)) {
            assertEquals(3, h.getChildren().size());
            for (int i = 0; i < NAMES.length; i++) assertClose(expected(i), read(h, NAMES[i]), NAMES[i]);
        }
        Path journal = tmp.resolve("features.h5.journal");
        assertTrue(Files.exists(journal), "journal kept while an image failed");

        // the broken image fixed: only it is processed, the others come from the journal
        Files.copy(IMAGES.resolve("13295.jpg"), folder.resolve("broken.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        r = run("features", "--model", VISION.resolve("tiny-clip").toString(), "--images", folder.toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("3 of 4 images already done"), r.err());
        assertFalse(Files.exists(journal), "journal removed once every image is in the output");
        try (HdfFile h = new HdfFile(out)) {
            assertEquals(4, h.getChildren().size());
            assertClose(expected(1), read(h, "broken"), "the JPEG named broken.png");
        }
    }

    /** A rerun takes finished images from the journal (even if the file changed since) and survives a torn last record. */
    @Test
    void resumesFromTheJournalWithUrlKeys(@TempDir Path tmp) throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("img"));
        for (String n : NAMES) Files.copy(IMAGES.resolve(n + ".jpg"), folder.resolve(n + ".jpg"));
        Path list = tmp.resolve("list.txt");
        Files.writeString(list, "img/1097.jpg\thttps://example.org/a/1097.jpg\nimg/13295.jpg\thttps://example.org/b/13295.jpg\nimg/missing.jpg\tm\n");
        Path out = tmp.resolve("f.h5");
        String model = VISION.resolve("tiny-clip").toString();
        Run r = run("features", "--model", model, "--images", list.toString(), "--out", out.toString(), "--key", "url");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("missing.jpg"), r.err());
        Path journal = tmp.resolve("f.h5.journal");
        // a crash in the middle of writing a record
        Files.write(journal, new byte[] {9, 0, 0, 0, 'h', 't'}, java.nio.file.StandardOpenOption.APPEND);
        // 1097.jpg now holds another picture: a resumed run must not recompute it
        Files.copy(IMAGES.resolve("3030.jpg"), folder.resolve("1097.jpg"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(list, "img/1097.jpg\thttps://example.org/a/1097.jpg\nimg/13295.jpg\thttps://example.org/b/13295.jpg\nimg/3030.jpg\thttps://example.org/c/3030.jpg\n");
        r = run("features", "--model", model, "--images", list.toString(), "--out", out.toString(), "--key", "url");
        assertEquals(0, r.exit(), r.err());
        try (HdfFile h = new HdfFile(out)) {
            assertClose(expected(0), read(h, "https:/example.org/a/1097.jpg"), "from the journal");
            assertClose(expected(1), read(h, "https:/example.org/b/13295.jpg"), "from the journal");
            assertClose(expected(2), read(h, "https:/example.org/c/3030.jpg"), "computed now");
        }
    }

    /** Shards written apart, into one folder, read back as one feature file: each image once, as computed whole. */
    @Test
    void shardsIntoOneFolderReadAsOne(@TempDir Path tmp) throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("images"));
        for (String n : NAMES) Files.copy(IMAGES.resolve(n + ".jpg"), folder.resolve(n + ".jpg"));
        Path parts = Files.createDirectories(tmp.resolve("parts"));
        for (int i = 0; i < 2; i++) {
            Run r = run("features", "--model", VISION.resolve("tiny-clip").toString(), "--images", folder.toString(), "--shard", i + "/2",
                    "--out", parts.resolve("part-" + i + ".h5").toString());
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.err().contains("shard " + i + "/2, " + (2 - i) + " of 3 images"), r.err());
            try (HdfFile h = new HdfFile(parts.resolve("part-" + i + ".h5"))) {
                assertEquals(2 - i, h.getChildren().size());
            }
        }
        try (ImageFeatures f = ImageFeatures.open(parts)) {
            assertEquals(3, f.size());
            for (int i = 0; i < NAMES.length; i++) assertClose(expected(i), f.find(NAMES[i]), NAMES[i]);
        }
        Run r = run("features", "--model", VISION.resolve("tiny-clip").toString(), "--images", folder.toString(), "--shard", "3/3",
                "--out", parts.resolve("never.h5").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("shard '3/3'") || r.err().contains("shard 3/3"), r.err());
    }

    @Test
    void badArgumentsAreClearErrors(@TempDir Path tmp) throws Exception {
        String model = VISION.resolve("tiny-clip").toString();
        Run r = run("features", "--model", model, "--images", tmp.resolve("nothing").toString(), "--out", tmp.resolve("o.h5").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("no such folder or list file"), r.err());
        Path folder = Files.createDirectories(tmp.resolve("dup"));
        Files.copy(IMAGES.resolve("1097.jpg"), folder.resolve("a.jpg"));
        Files.copy(IMAGES.resolve("1097.jpg"), folder.resolve("a.png"));
        r = run("features", "--model", model, "--images", folder.toString(), "--out", tmp.resolve("o.h5").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("two images get the key \"a\""), r.err());
        Files.delete(folder.resolve("a.png"));
        r = run("features", "--model", VISION.resolve("tiny-clip-vision").toString(), "--images", folder.toString(),
                "--out", tmp.resolve("o.h5").toString(), "--feature", "projected");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("no visual_projection"), r.err());
        assertFalse(Files.exists(tmp.resolve("o.h5")));
    }
}
