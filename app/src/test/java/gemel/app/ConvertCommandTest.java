package gemel.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.data.KnowledgeBase;
import gemel.data.MelJsonlReader;
import gemel.features.ImageFeatures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ConvertCommandTest {
    private static final Path SHARED = Path.of(System.getProperty("gemel.shared", "../shared"));
    private static final Path ROOT = Path.of(System.getProperty("gemel.root", ".."));

    private static int run(String... args) { return new CommandLine(new GemelCli()).execute(args); }

    @Test
    void wikiMelFolderBecomesThreeSplitsAndAKnowledgeBase(@TempDir Path out) throws IOException {
        assertEquals(0, run("convert", "wikimel", SHARED.resolve("data/wikimel").toString(), "--out", out.toString()));
        assertEquals(18_088, MelJsonlReader.strict().read(out.resolve("train.jsonl")).size());
        assertEquals(2_627, MelJsonlReader.strict().read(out.resolve("dev.jsonl")).size());
        assertEquals(5_131, MelJsonlReader.strict().read(out.resolve("test.jsonl")).size());
        assertEquals(18_880, KnowledgeBase.read(out.resolve("kb.jsonl")).size());
    }

    @Test
    void badInputEndsWithExitCodeOneAndWritesNothing(@TempDir Path out) throws IOException {
        Path bad = out.resolve("bad.json");
        Files.writeString(bad, "[[\"text\", \"https://u/i.jpg\", \"news\", [[\"m\", \"PER\", 0, 1]]]]");
        assertEquals(1, run("convert", "wikidiverse", "--split", "train=" + bad, "--out", out.resolve("o").toString()));
        assertTrue(Files.notExists(out.resolve("o")));
        assertEquals(2, run("convert", "mimic", "--out", out.toString()));   // picocli: missing --split
    }

    @Test
    void aMissingFileIsNamedAsMissing(@TempDir Path out) {
        Path nowhere = out.resolve("no-train.jsonl");
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = run("convert", "demos", "--train", nowhere.toString(), "--out", out.resolve("d.jsonl").toString());
        } finally {
            System.setErr(old);
        }
        assertEquals(1, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("gemel convert: no such file: " + nowhere), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void hdf5FeaturesCopyIntoAStore(@TempDir Path out) throws IOException {
        Path h5 = ROOT.resolve("core/src/test/resources/data/features/good.h5");
        Path store = out.resolve("f.gfeat");
        assertEquals(0, run("convert", "features", h5.toString(), "--out", store.toString()));
        try (ImageFeatures a = ImageFeatures.open(h5); ImageFeatures b = ImageFeatures.open(store)) {
            assertEquals(a.size(), b.size());
            for (String key : new String[] {"1097", "13280.jpg", "2083.jpg",
                    "https://upload.wikimedia.org/wikipedia/commons/0/06/Detroit_Lions%2C_2007.jpg"})
                assertEquals(java.util.Arrays.toString(a.find(key)), java.util.Arrays.toString(b.find(key)), key);
        }
    }
}
