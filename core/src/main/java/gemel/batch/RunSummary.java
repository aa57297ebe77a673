package gemel.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.io.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;

/**
 * What a batch run wrote, beside its output file F as {@code F.summary.json}: its run ({@link BatchRun}), how many
 * results, and for an evaluation (results that say whether they are correct) how many are correct and the accuracy.
 * Scripts read the accuracy here, and {@link ShardMerge} finds here which shard an output file is.
 */
public record RunSummary(BatchRun run, int results, Integer correct) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Correct over results, in [0, 1] (0 for none); for an evaluation only. */
    public double accuracy() {
        if (correct == null) throw new IllegalStateException("the results of " + run.settings().get("command") + " are not judged correct or not");
        return results == 0 ? 0 : (double) correct / results;
    }

    /** The summary file of output file {@code out}. */
    public static Path fileOf(Path out) { return out.resolveSibling(out.getFileName() + ".summary.json"); }

    /**
     * Writes {@code lines} (in index order) to {@code out}, each ended by a newline, and then their summary beside it, each
     * file at once. The lines are judged (their "correct" counted) when every one of them is.
     */
    static RunSummary write(Path out, BatchRun run, Collection<ResultLine> lines) throws IOException {
        int correct = 0;
        boolean judged = true;
        for (ResultLine line : lines) {
            judged &= line.correct() != null;
            if (Boolean.TRUE.equals(line.correct())) correct++;
        }
        RunSummary summary = new RunSummary(run, lines.size(), judged ? correct : null);
        // a summary left by an earlier run must not stand beside these results should the next step fail
        Files.deleteIfExists(fileOf(out));
        AtomicFile.writeStream(out, o -> {
            for (ResultLine line : lines) {
                o.write(line.json().getBytes(StandardCharsets.UTF_8));
                o.write('\n');
            }
        });
        ObjectNode node = JSON.createObjectNode();
        if (judged) node.put("accuracy", summary.accuracy()).put("correct", correct);
        node.put("results", lines.size()).setAll(run.toJson());
        byte[] bytes = (JSON.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicFile.writeStream(fileOf(out), o -> o.write(bytes));
        return summary;
    }

    /** The summary beside {@code out}. */
    static RunSummary read(Path out) throws IOException {
        Path file = fileOf(out);
        JsonNode node;
        try {
            node = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(out + " has no " + file.getFileName() + " beside it: not written by a gemel batch run", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": malformed JSON (" + e.getMessage() + ")", e);
        }
        if (node == null || !node.isObject()) throw new IllegalArgumentException(file + ": not a JSON object");
        JsonNode results = node.get("results"), correct = node.get("correct");
        if (results == null || !results.canConvertToInt() || correct != null && !correct.canConvertToInt())
            throw new IllegalArgumentException(file + ": no count of results");
        return new RunSummary(BatchRun.fromJson(node, file.toString()), results.asInt(), correct == null ? null : correct.asInt());
    }
}
