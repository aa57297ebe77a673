package gemel.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What reading one JSON-lines file of mentions found: how many records were kept and, per issue, the
 * line numbers (1-based) it concerns, so that nothing is dropped without a trace.
 */
public final class MelReadReport {
    /** Shown per issue in {@link #summary()}; the full lists stay available through {@link #lines(Issue)}. */
    private static final int LINES_SHOWN = 10;

    /** Something noticed on a line; {@code bad} issues make the line unusable. */
    public enum Issue {
        MALFORMED_JSON(true, "malformed JSON"),
        MISSING_FIELD(true, "missing or non-text required field"),
        EMPTY_FIELD(true, "empty required field"),
        CONFLICTING_IMAGE_KEYS(true, "both img_url and img_name"),
        NIL_DROPPED(false, "NIL gold, dropped"),
        MENTION_NOT_IN_TEXT(false, "mention not verbatim in text (kept)"),
        BLANK_LINE(false, "blank line, ignored");

        private final boolean bad;
        private final String description;

        Issue(boolean bad, String description) {
            this.bad = bad;
            this.description = description;
        }

        public boolean bad() { return bad; }

        public String description() { return description; }
    }

    private final Path file;
    private final int linesRead;
    private final int kept;
    private final Map<Issue, List<Integer>> lines;
    private final List<String> problems;

    MelReadReport(Path file, int linesRead, int kept, Map<Issue, List<Integer>> lines, List<String> problems) {
        this.file = file;
        this.linesRead = linesRead;
        this.kept = kept;
        EnumMap<Issue, List<Integer>> copy = new EnumMap<>(Issue.class);
        lines.forEach((issue, numbers) -> copy.put(issue, List.copyOf(numbers)));
        this.lines = Collections.unmodifiableMap(copy);
        this.problems = List.copyOf(problems);
    }

    public Path file() { return file; }

    public int linesRead() { return linesRead; }

    /** Records returned to the caller. */
    public int kept() { return kept; }

    public int count(Issue issue) { return lines(issue).size(); }

    /** Line numbers (1-based, ascending) where {@code issue} was seen. */
    public List<Integer> lines(Issue issue) { return lines.getOrDefault(issue, List.of()); }

    /** Lines that could not be turned into a record. */
    public int badLines() {
        int n = 0;
        for (Issue issue : Issue.values()) if (issue.bad()) n += count(issue);
        return n;
    }

    /** One message per bad line, e.g. {@code "line 7: missing field 'golden'"}. */
    public List<String> problems() { return problems; }

    /** A few lines for a person: counts per issue with the first line numbers. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(file).append(": ").append(linesRead).append(" lines, ").append(kept).append(" records kept");
        for (Issue issue : Issue.values()) {
            List<Integer> at = lines(issue);
            if (at.isEmpty()) continue;
            sb.append("\n  ").append(at.size()).append(" x ").append(issue.description()).append(" at line");
            if (at.size() > 1) sb.append('s');
            sb.append(' ');
            List<String> shown = new ArrayList<>();
            for (int i = 0; i < Math.min(LINES_SHOWN, at.size()); i++) shown.add(String.valueOf(at.get(i)));
            sb.append(String.join(", ", shown));
            if (at.size() > LINES_SHOWN) sb.append(", ...");
        }
        return sb.toString();
    }

    @Override
    public String toString() { return summary(); }
}
