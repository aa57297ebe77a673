package gemel.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.eval.Prediction;
import gemel.eval.PredictionLines;
import gemel.link.LinkedEntity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An evaluation's journal across interruptions, and shards of an evaluation joined by {@link ShardMerge}. */
class ResultJournalTest {
    private static final Map<String, String> SETTINGS = Map.of("--beams", "5", "--model", "opt-6.7b (7 files, 13317122894 bytes)");
    private static final int RECORDS = 7;

    @TempDir
    Path dir;

    /** Record k's prediction: right for even k, with a score that needs all of a double's digits. */
    private static Prediction prediction(int k) {
        String name = "Entity " + k;
        List<LinkedEntity> beams = List.of(new LinkedEntity(name, " " + name, List.of("Q" + k), -0.1 * k - 1e-17, true),
                new LinkedEntity("Other", " Other", List.of(), -3.3, true));
        return new Prediction(k, "mention " + k, "Q" + k, k % 2 == 0 ? name : "Someone", " " + name, k % 2 == 0, false, "Q" + k, beams);
    }

    private static ResultLine result(int k) { return PredictionLines.result(prediction(k)); }

    /** Lines as a predictions file holds them. */
    private static String lines(int... ks) {
        StringBuilder s = new StringBuilder();
        for (int k : ks) s.append(PredictionLines.line(prediction(k))).append('\n');
        return s.toString();
    }

    @Test
    void anInterruptedRunResumesWithWhatItHadAndFinishesAsOneRunWould() throws IOException {
        BatchRun run = new BatchRun(SETTINGS, RECORDS, Shard.WHOLE);
        Path journalFile = dir.resolve("p.jsonl.partial");
        try (ResultJournal journal = ResultJournal.open(journalFile, run)) {
            for (int k : new int[] {3, 0, 5}) journal.append(result(k)); // finished out of order, as parallel queries do
        }
        // a crash while the next line was being written
        String torn = PredictionLines.line(prediction(1));
        Files.writeString(journalFile, torn.substring(0, torn.length() / 2), StandardOpenOption.APPEND);

        Path out = dir.resolve("p.jsonl");
        try (ResultJournal journal = ResultJournal.open(journalFile, run)) {
            assertEquals(3, journal.size());
            for (int k = 0; k < RECORDS; k++) assertEquals(k == 0 || k == 3 || k == 5, journal.has(k), "record " + k);
            for (int k : new int[] {1, 2}) journal.append(result(k));
        }
        try (ResultJournal journal = ResultJournal.open(journalFile, run)) { // the torn line was cut off: the lines after it read
            assertEquals(5, journal.size());
            for (int k : new int[] {4, 6}) journal.append(result(k));
            RunSummary summary = journal.finish(out);
            assertEquals(RECORDS, summary.results());
            assertEquals(4, (int) summary.correct());
        }
        assertFalse(Files.exists(journalFile), "the journal goes once its predictions are written");
        assertEquals(lines(0, 1, 2, 3, 4, 5, 6), Files.readString(out));
        RunSummary read = RunSummary.read(out);
        assertEquals(run, read.run());
        assertEquals(4.0 / 7, read.accuracy(), 0);
    }

    @Test
    void aJournalOfOtherSettingsOrWithABadLineIsRefusedAndKept() throws IOException {
        Path journalFile = dir.resolve("q.jsonl.partial");
        try (ResultJournal journal = ResultJournal.open(journalFile, new BatchRun(SETTINGS, RECORDS, Shard.WHOLE))) {
            journal.append(result(2));
        }
        byte[] kept = Files.readAllBytes(journalFile);
        var other = assertThrows(IllegalArgumentException.class,
                () -> ResultJournal.open(journalFile, new BatchRun(Map.of("--beams", "3", "--model", SETTINGS.get("--model")), RECORDS, Shard.WHOLE)));
        assertTrue(other.getMessage().contains("--beams: 5 there, 3 here") && other.getMessage().contains("delete it"), other.getMessage());
        var shard = assertThrows(IllegalArgumentException.class, () -> ResultJournal.open(journalFile, new BatchRun(SETTINGS, RECORDS, new Shard(1, 2))));
        assertTrue(shard.getMessage().contains("shard 0/1 there, 1/2 here"), shard.getMessage());
        assertEquals(new String(kept, StandardCharsets.UTF_8), Files.readString(journalFile), "a refused journal is left as it was");

        Files.writeString(journalFile, "{\"index\": 4, \"correct\n" + PredictionLines.line(prediction(6)) + "\n", StandardOpenOption.APPEND);
        var bad = assertThrows(IllegalArgumentException.class, () -> ResultJournal.open(journalFile, new BatchRun(SETTINGS, RECORDS, Shard.WHOLE)));
        assertTrue(bad.getMessage().contains(journalFile + " line 3: malformed JSON"), bad.getMessage());

        Path notOne = dir.resolve("not-a-journal.partial");
        Files.writeString(notOne, "{\"index\": 0}\n");
        var foreign = assertThrows(IllegalArgumentException.class, () -> ResultJournal.open(notOne, new BatchRun(SETTINGS, RECORDS, Shard.WHOLE)));
        assertTrue(foreign.getMessage().contains("not a gemel journal"), foreign.getMessage());
    }

    @Test
    void aRunThatFailsBeforeItsFirstPredictionLeavesNoJournal() throws IOException {
        Path journalFile = dir.resolve("r.jsonl.partial");
        try (ResultJournal journal = ResultJournal.open(journalFile, new BatchRun(SETTINGS, RECORDS, Shard.WHOLE))) {
            assertTrue(Files.exists(journalFile));
        }
        assertFalse(Files.exists(journalFile));
    }

    @Test
    void aPredictionOfAnotherShardOrTwiceIsRefused() throws IOException {
        try (ResultJournal journal = ResultJournal.open(dir.resolve("s.partial"), new BatchRun(SETTINGS, RECORDS, new Shard(1, 3)))) {
            journal.append(result(4));
            var foreign = assertThrows(IllegalArgumentException.class, () -> journal.append(result(3)));
            assertTrue(foreign.getMessage().contains("record 3 is not one of shard 1/3 of 7"), foreign.getMessage());
            assertThrows(IllegalArgumentException.class, () -> journal.append(result(4)));
            var early = assertThrows(IllegalStateException.class, () -> journal.finish(dir.resolve("s.jsonl")));
            assertTrue(early.getMessage().contains("1 of the 2 results"), early.getMessage());
        }
    }

    /** Shard {@code i} of {@code n} of the evaluation, written as its run would write it. */
    private Path shard(int i, int n, Map<String, String> settings) throws IOException {
        BatchRun run = new BatchRun(settings, RECORDS, new Shard(i, n));
        Path out = dir.resolve("shard-" + i + "-of-" + n + (settings == SETTINGS ? "" : "-other") + ".jsonl");
        try (ResultJournal journal = ResultJournal.open(out.resolveSibling(out.getFileName() + ".partial"), run)) {
            for (int k = 0; k < RECORDS; k++) if (run.shard().holds(k)) journal.append(result(k));
            journal.finish(out);
        }
        return out;
    }

    @Test
    void shardsMergeIntoWhatOneRunWrites() throws IOException {
        List<Path> shards = new ArrayList<>();
        for (int i : new int[] {2, 0, 1}) shards.add(shard(i, 3, SETTINGS));
        Path merged = dir.resolve("merged.jsonl");
        RunSummary summary = ShardMerge.merge(shards, merged);

        Path whole = dir.resolve("whole.jsonl");
        try (ResultJournal journal = ResultJournal.open(dir.resolve("whole.jsonl.partial"), new BatchRun(SETTINGS, RECORDS, Shard.WHOLE))) {
            for (int k = 0; k < RECORDS; k++) journal.append(result(k));
            assertEquals(journal.finish(whole), summary);
        }
        assertEquals(Files.readString(whole), Files.readString(merged));
        assertEquals(Files.readString(RunSummary.fileOf(whole)), Files.readString(RunSummary.fileOf(merged)));
    }

    @Test
    void aMergeNeedsEveryShardOnceFromOneEvaluation() throws IOException {
        Path a = shard(0, 2, SETTINGS), b = shard(1, 2, SETTINGS), out = dir.resolve("never.jsonl");
        var missing = assertThrows(IllegalArgumentException.class, () -> ShardMerge.merge(List.of(b), out));
        assertTrue(missing.getMessage().contains("shard 0/2 is missing"), missing.getMessage());
        var twice = assertThrows(IllegalArgumentException.class, () -> ShardMerge.merge(List.of(a, b, a), out));
        assertTrue(twice.getMessage().contains("are both shard 0/2"), twice.getMessage());
        Path other = shard(1, 2, Map.of("--beams", "3", "--model", SETTINGS.get("--model")));
        var foreign = assertThrows(IllegalArgumentException.class, () -> ShardMerge.merge(List.of(a, other), out));
        assertTrue(foreign.getMessage().contains("--beams: 5 there, 3 here"), foreign.getMessage());
        var thirds = assertThrows(IllegalArgumentException.class, () -> ShardMerge.merge(List.of(a, shard(1, 3, SETTINGS)), out));
        assertTrue(thirds.getMessage().contains("shards of 2 there, of 3 here"), thirds.getMessage());

        // a shard's file that lost a line, or gained another shard's
        List<String> lines = Files.readAllLines(b);
        Files.write(b, lines.subList(1, lines.size()));
        var lost = assertThrows(IllegalArgumentException.class, () -> ShardMerge.merge(List.of(a, b), out));
        assertTrue(lost.getMessage().contains("holds 2 results, shard 1/2 of 7 records has 3"), lost.getMessage());
        Files.write(b, List.of(lines.get(0), lines.get(1), lines.get(2), Files.readAllLines(a).get(0)));
        var stray = assertThrows(IllegalArgumentException.class, () -> ShardMerge.merge(List.of(a, b), out));
        assertTrue(stray.getMessage().contains("line 4: record 0 is not one of shard 1/2"), stray.getMessage());
        var unsummarised = assertThrows(IllegalArgumentException.class, () -> ShardMerge.merge(List.of(a, dir.resolve("whole.jsonl")), out));
        assertTrue(unsummarised.getMessage().contains("no whole.jsonl.summary.json beside it"), unsummarised.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void shardsSplitRecordsByRemainder() {
        Shard s = Shard.parse(" 2/5 ");
        assertEquals(new Shard(2, 5), s);
        assertEquals("2/5", s.toString());
        for (int records = 0; records < 23; records++) {
            int total = 0;
            for (int i = 0; i < 5; i++) {
                Shard part = new Shard(i, 5);
                int n = part.size(records);
                assertEquals(IntStream.range(0, records).filter(part::holds).count(), n);
                total += n;
            }
            assertEquals(records, total);
        }
        for (String bad : new String[] {"5/5", "1/0", "-1/2", "1", "a/b", "99999999999/2"})
            assertThrows(IllegalArgumentException.class, () -> Shard.parse(bad), bad);
    }
}
