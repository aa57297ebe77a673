package gemel.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.data.MelReadReport.Issue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MelJsonlReaderTest {
    @TempDir
    Path dir;

    /** Line numbers are the 1-based positions in this list. */
    private static final List<String> LINES = List.of(
            "{\"text\": \"Powers with Noel Harrison\", \"mention\": \"Noel Harrison\", \"img_name\": \"46351.jpg\", \"golden\": \"Q532915\", \"target\": \"Noel Harrison\"}",
            "{\"text\": \"Lions versus Packers\", \"mention\": \"Lions\", \"img_url\": \"https://x/y.jpg\", \"golden\": \"NIL\", \"target\": \"NIL\"}",
            "{\"text\": \"broken\", \"mention\": ",
            "{\"text\": \"no gold\", \"mention\": \"gold\", \"img_name\": \"1.jpg\", \"target\": \"Gold\"}",
            "",
            "{\"text\": \"empty mention\", \"mention\": \"\", \"img_name\": \"1.jpg\", \"golden\": \"Q1\", \"target\": \"X\"}",
            "{\"text\": \"two keys\", \"mention\": \"two\", \"img_name\": \"1.jpg\", \"img_url\": \"u\", \"golden\": \"Q2\", \"target\": \"Two\"}",
            "{\"text\": \"Seattle Mayor Smith\", \"mention\": \"Charles L. Smith\", \"img_url\": \"https://x/z.jpg\", \"golden\": \"Q16010128\", \"target\": \"Charles L. Smith (Seattle politician)\", \"extra\": 1}",
            "[1, 2]",
            "{\"text\": \"no image\", \"mention\": \"image\", \"golden\": \"Q3\", \"target\": \"Image\"}",
            "{\"text\": \"number gold\", \"mention\": \"number\", \"img_name\": \"1.jpg\", \"golden\": 7, \"target\": \"Seven\"}");

    private Path file() throws IOException {
        Path f = dir.resolve("mixed.jsonl");
        Files.writeString(f, String.join("\n", LINES) + "\n", StandardCharsets.UTF_8);
        return f;
    }

    @Test
    void skipPolicyKeepsGoodLinesAndReportsEveryOtherLineByNumber() throws IOException {
        MelDataset data = new MelJsonlReader(BadLinePolicy.SKIP, false).read(file());
        MelReadReport r = data.report();

        assertEquals(2, data.size());
        MelExample first = data.get(0);
        assertEquals("Powers with Noel Harrison", first.text());
        assertEquals("Noel Harrison", first.mention());
        assertEquals("46351.jpg", first.imageKey());
        assertEquals(MelExample.ImageKeyKind.NAME, first.imageKeyKind());
        assertEquals("Q532915", first.golden());
        assertEquals("Noel Harrison", first.target());
        assertEquals(MelExample.ImageKeyKind.URL, data.get(1).imageKeyKind());

        assertEquals(11, r.linesRead());
        assertEquals(2, r.kept());
        assertEquals(List.of(3, 9), r.lines(Issue.MALFORMED_JSON));
        assertEquals(List.of(4, 10, 11), r.lines(Issue.MISSING_FIELD));
        assertEquals(List.of(6), r.lines(Issue.EMPTY_FIELD));
        assertEquals(List.of(7), r.lines(Issue.CONFLICTING_IMAGE_KEYS));
        assertEquals(List.of(2), r.lines(Issue.NIL_DROPPED));
        assertEquals(List.of(5), r.lines(Issue.BLANK_LINE));
        assertEquals(List.of(8), r.lines(Issue.MENTION_NOT_IN_TEXT));
        assertEquals(7, r.badLines());
        // every line is accounted for: kept, bad, NIL or blank
        assertEquals(r.linesRead(), r.kept() + r.badLines() + r.count(Issue.NIL_DROPPED) + r.count(Issue.BLANK_LINE));
        assertTrue(r.problems().contains("line 4: missing text field 'golden'"), r.problems().toString());
        assertTrue(r.summary().contains("2 x malformed JSON at lines 3, 9"), r.summary());
    }

    @Test
    void nilIsKeptOnRequest() throws IOException {
        MelDataset data = new MelJsonlReader(BadLinePolicy.SKIP, true).read(file());
        assertEquals(3, data.size());
        assertTrue(data.get(1).isNil());
        assertEquals(0, data.report().count(Issue.NIL_DROPPED));
    }

    @Test
    void rejectPolicyRefusesTheFileNamingTheBadLines() throws IOException {
        Path f = file();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MelJsonlReader.strict().read(f));
        assertTrue(e.getMessage().contains("7 bad line(s)"), e.getMessage());
        assertTrue(e.getMessage().contains("line 6: empty field 'mention'"), e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void writerOutputReadsBackToTheSameRecords() throws IOException {
        List<MelExample> examples = List.of(
                new MelExample("Café \"Flore\"\nParis", "Café", "https://u/é.jpg", MelExample.ImageKeyKind.URL,
                        "https://en.wikipedia.org/wiki/Caf%C3%A9", "Café"),
                new MelExample("Janet & Wayne Gretzky", "Janet", "43835.jpg", MelExample.ImageKeyKind.NAME, "Q3132470", "Janet Jones"),
                new MelExample("unknown person", "person", "1.jpg", MelExample.ImageKeyKind.NAME, MelExample.NIL, MelExample.NIL));
        Path f = dir.resolve("out/round.jsonl");
        MelJsonlWriter.write(f, examples);
        MelDataset back = new MelJsonlReader(BadLinePolicy.REJECT, true).read(f);
        assertEquals(examples, back.examples());
        assertEquals(3, Files.readAllLines(f).size());
        assertTrue(Files.readAllLines(f).get(1).startsWith("{\"text\":\"Janet & Wayne Gretzky\",\"mention\":\"Janet\",\"img_name\":\"43835.jpg\""));
        try (var files = Files.list(f.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void aNilRecordIsDroppedByItsGoldAloneAsTheReferenceDoes() throws IOException {
        // the reference filters on golden before reading any other field: a NIL record needs no target, image or text
        Path f = dir.resolve("nil.jsonl");
        Files.writeString(f, String.join("\n",
                "{\"text\": \"Lions versus Packers\", \"mention\": \"Lions\", \"img_url\": \"https://x/y.jpg\", \"golden\": \"NIL\", \"target\": \"\"}",
                "{\"text\": \"someone\", \"mention\": \"someone\", \"golden\": \"NIL\"}",
                "{\"text\": \"Powers with Noel Harrison\", \"mention\": \"Noel Harrison\", \"img_name\": \"46351.jpg\", \"golden\": \"Q532915\", \"target\": \"Noel Harrison\"}")
                + "\n", StandardCharsets.UTF_8);
        MelDataset data = MelJsonlReader.strict().read(f);
        assertEquals(1, data.size());
        assertEquals(List.of(1, 2), data.report().lines(Issue.NIL_DROPPED));
        assertEquals(0, data.report().badLines());
        // kept on request, a NIL record must be complete like any other
        MelDataset kept = new MelJsonlReader(BadLinePolicy.SKIP, true).read(f);
        assertEquals(1, kept.size());
        assertEquals(List.of(1), kept.report().lines(Issue.EMPTY_FIELD));
        assertEquals(List.of(2), kept.report().lines(Issue.MISSING_FIELD));
    }
}
