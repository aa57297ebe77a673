package gemel.batch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Joins the output files of the shards of one batch job ({@code gemel eval --shard I/N} or {@code gemel link --input
 * --shard I/N} on several machines) into the file, and the summary, that one run over all records would have written:
 * the same lines in record order. Every shard must be there, once, with the same settings and records, and hold
 * exactly its own records.
 */
public final class ShardMerge {
    private ShardMerge() {}

    public static RunSummary merge(List<Path> shards, Path out) throws IOException {
        if (shards.isEmpty()) throw new IllegalArgumentException("no output files to merge");
        BatchRun first = null;
        Path firstFile = null;
        Path[] byShard = null;
        SortedMap<Integer, ResultLine> lines = new TreeMap<>();
        for (Path file : shards) {
            RunSummary summary = RunSummary.read(file);
            BatchRun run = summary.run();
            if (first == null) {
                first = run;
                firstFile = file;
                byShard = new Path[run.shard().count()];
            } else {
                String differs = run.settingsDifferFrom(first);
                if (differs == null && run.records() != first.records())
                    differs = "the job has " + first.records() + " records there, " + run.records() + " here";
                if (differs == null && run.shard().count() != first.shard().count())
                    differs = "shards of " + first.shard().count() + " there, of " + run.shard().count() + " here";
                if (differs != null) throw new IllegalArgumentException(file + " is not a shard of the job of " + firstFile + " (" + differs + ")");
            }
            int i = run.shard().index();
            if (byShard[i] != null) throw new IllegalArgumentException(file + " and " + byShard[i] + " are both shard " + run.shard());
            byShard[i] = file;
            int read = readShard(file, run, lines);
            if (read != run.size() || summary.results() != read)
                throw new IllegalArgumentException(file + " holds " + read + " results, shard " + run.shard() + " of " + run.records()
                        + " records has " + run.size() + (summary.results() != read ? " and its summary says " + summary.results() : ""));
        }
        for (int i = 0; i < byShard.length; i++) {
            if (byShard[i] == null)
                throw new IllegalArgumentException("shard " + i + "/" + byShard.length + " is missing: give all " + byShard.length + " output files");
        }
        return RunSummary.write(out, new BatchRun(first.settings(), first.records(), Shard.WHOLE), lines.values());
    }

    /** Adds the results of one shard's file to {@code lines}; returns how many it holds. */
    private static int readShard(Path file, BatchRun run, SortedMap<Integer, ResultLine> lines) throws IOException {
        List<String> text = Files.readAllLines(file, StandardCharsets.UTF_8);
        int read = 0;
        for (int n = 0; n < text.size(); n++) {
            if (text.get(n).isBlank()) continue;
            String where = file + " line " + (n + 1);
            run.add(lines, ResultLine.parse(text.get(n), where), where);
            read++;
        }
        return read;
    }
}
