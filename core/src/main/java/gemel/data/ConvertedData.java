package gemel.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A published data set turned into the reference's records: the mentions of each split (in the order
 * the split lists them), the number of source records (captions) each split drew from, the knowledge
 * base when the source has one, and notes on anything left out or odd.
 */
public record ConvertedData(Map<String, List<MelExample>> splits, Map<String, Integer> sourceRecords,
                            KnowledgeBase knowledgeBase, List<String> notes) {
    public ConvertedData {
        splits = Collections.unmodifiableMap(new LinkedHashMap<>(splits));
        sourceRecords = Collections.unmodifiableMap(new LinkedHashMap<>(sourceRecords));
        notes = List.copyOf(notes);
    }

    /** Writes {@code <split>.jsonl} per split and {@code kb.jsonl} when there is a knowledge base; returns the files. */
    public List<Path> write(Path outDir) throws IOException {
        List<Path> written = new ArrayList<>();
        for (Map.Entry<String, List<MelExample>> split : splits.entrySet()) {
            Path file = outDir.resolve(split.getKey() + ".jsonl");
            MelJsonlWriter.write(file, split.getValue());
            written.add(file);
        }
        if (knowledgeBase != null) {
            Path file = outDir.resolve("kb.jsonl");
            knowledgeBase.writeJsonl(file);
            written.add(file);
        }
        return written;
    }

    public int mentionCount() {
        int n = 0;
        for (List<MelExample> split : splits.values()) n += split.size();
        return n;
    }

    /** Counts per split: source records, mentions, NIL mentions, mentions not verbatim in their text. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        int records = 0, mentions = 0, nil = 0, notVerbatim = 0;
        for (Map.Entry<String, List<MelExample>> split : splits.entrySet()) {
            int r = sourceRecords.getOrDefault(split.getKey(), 0);
            int m = split.getValue().size();
            int n = (int) split.getValue().stream().filter(MelExample::isNil).count();
            int v = (int) split.getValue().stream().filter(e -> !e.mentionInText()).count();
            sb.append(String.format(Locale.ROOT, "%-6s %,7d records %,7d mentions %,6d NIL %,6d mentions not verbatim in text%n",
                    split.getKey(), r, m, n, v));
            records += r;
            mentions += m;
            nil += n;
            notVerbatim += v;
        }
        sb.append(String.format(Locale.ROOT, "%-6s %,7d records %,7d mentions %,6d NIL %,6d mentions not verbatim in text%n",
                "total", records, mentions, nil, notVerbatim));
        if (knowledgeBase != null) sb.append(String.format(Locale.ROOT, "kb     %,7d entities%n", knowledgeBase.size()));
        for (String note : notes) sb.append("note: ").append(note).append('\n');
        return sb.toString();
    }
}
