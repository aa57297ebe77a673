package gemel.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.data.MelReadReport.Issue;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the reference's JSON lines: one object per line with {@code text}, {@code mention},
 * {@code img_url} or {@code img_name}, {@code golden} and {@code target}; other fields are ignored.
 * Records whose gold is {@code "NIL"} are dropped unless asked to keep them (the reference drops them).
 * Bad lines are reported with their numbers and then skipped or make the whole read fail, by policy.
 */
public final class MelJsonlReader {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] REQUIRED = {"text", "mention", "golden", "target"};

    private final BadLinePolicy policy;
    private final boolean keepNil;

    public MelJsonlReader(BadLinePolicy policy, boolean keepNil) {
        this.policy = policy;
        this.keepNil = keepNil;
    }

    /** The reference's behaviour: NIL dropped; bad lines refused. */
    public static MelJsonlReader strict() { return new MelJsonlReader(BadLinePolicy.REJECT, false); }

    /**
     * Reads {@code file}.
     *
     * @throws IllegalArgumentException under {@link BadLinePolicy#REJECT} when any line is bad; the message
     *                                  is the report's summary and the problems of the first bad lines
     */
    public MelDataset read(Path file) throws IOException {
        List<MelExample> kept = new ArrayList<>();
        Map<Issue, List<Integer>> issues = new EnumMap<>(Issue.class);
        List<String> problems = new ArrayList<>();
        int lineNo = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = in.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) {
                    note(issues, Issue.BLANK_LINE, lineNo);
                    continue;
                }
                MelExample example = parse(line, lineNo, issues, problems);
                if (example == null) continue;
                if (!example.mentionInText()) note(issues, Issue.MENTION_NOT_IN_TEXT, lineNo);
                kept.add(example);
            }
        }
        MelReadReport report = new MelReadReport(file, lineNo, kept.size(), issues, problems);
        if (policy == BadLinePolicy.REJECT && report.badLines() > 0) {
            List<String> first = problems.subList(0, Math.min(10, problems.size()));
            throw new IllegalArgumentException("refusing " + file + ": " + report.badLines() + " bad line(s)\n"
                    + report.summary() + "\n  " + String.join("\n  ", first));
        }
        return new MelDataset(kept, report);
    }

    /** The record on this line, or null after noting why there is none. */
    private MelExample parse(String line, int lineNo, Map<Issue, List<Integer>> issues, List<String> problems) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            return bad(issues, problems, Issue.MALFORMED_JSON, lineNo, e.getOriginalMessage());
        }
        if (node == null || !node.isObject())
            return bad(issues, problems, Issue.MALFORMED_JSON, lineNo, "not a JSON object");
        // the reference drops NIL records on their gold alone, before reading any other field
        if (!keepNil && node.path("golden").asText("").equals(MelExample.NIL)) {
            note(issues, Issue.NIL_DROPPED, lineNo);
            return null;
        }
        for (String field : REQUIRED) {
            JsonNode value = node.get(field);
            if (value == null || !value.isTextual())
                return bad(issues, problems, Issue.MISSING_FIELD, lineNo, "missing text field '" + field + "'");
            if (value.asText().isEmpty())
                return bad(issues, problems, Issue.EMPTY_FIELD, lineNo, "empty field '" + field + "'");
        }
        JsonNode url = node.get(MelExample.ImageKeyKind.URL.field());
        JsonNode name = node.get(MelExample.ImageKeyKind.NAME.field());
        if (url != null && name != null)
            return bad(issues, problems, Issue.CONFLICTING_IMAGE_KEYS, lineNo, "has both img_url and img_name");
        MelExample.ImageKeyKind kind = url != null ? MelExample.ImageKeyKind.URL : MelExample.ImageKeyKind.NAME;
        JsonNode image = url != null ? url : name;
        if (image == null || !image.isTextual())
            return bad(issues, problems, Issue.MISSING_FIELD, lineNo, "missing text field 'img_url' or 'img_name'");
        if (image.asText().isEmpty())
            return bad(issues, problems, Issue.EMPTY_FIELD, lineNo, "empty field '" + kind.field() + "'");
        return new MelExample(node.get("text").asText(), node.get("mention").asText(), image.asText(), kind,
                node.get("golden").asText(), node.get("target").asText());
    }

    private static MelExample bad(Map<Issue, List<Integer>> issues, List<String> problems, Issue issue, int lineNo, String why) {
        note(issues, issue, lineNo);
        problems.add("line " + lineNo + ": " + why);
        return null;
    }

    private static void note(Map<Issue, List<Integer>> issues, Issue issue, int lineNo) {
        issues.computeIfAbsent(issue, k -> new ArrayList<>()).add(lineNo);
    }
}
