package gemel.eval;

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
 * What an evaluation run wrote, beside its predictions file P as {@code P.summary.json}: its run ({@link EvalRun}), how
 * many records it evaluated and how many of them are correct, and the accuracy. Scripts read the accuracy here, and
 * {@link ShardMerge} finds here which shard a predictions file is.
 */
public record EvalSummary(EvalRun run, int evaluated, int correct) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Correct over evaluated, in [0, 1]; 0 for no records. */
    public double accuracy() { return evaluated == 0 ? 0 : (double) correct / evaluated; }

    /** The summary file of predictions file {@code predictions}. */
    public static Path fileOf(Path predictions) { return predictions.resolveSibling(predictions.getFileName() + ".summary.json"); }

    /** Writes {@code lines} (in index order) to {@code predictions} and then their summary beside it, each file at once. */
    static EvalSummary write(Path predictions, EvalRun run, Collection<PredictionLine> lines) throws IOException {
        int correct = 0;
        for (PredictionLine line : lines) if (line.correct()) correct++;
        EvalSummary summary = new EvalSummary(run, lines.size(), correct);
        // a summary left by an earlier run must not stand beside these predictions should the next step fail
        Files.deleteIfExists(fileOf(predictions));
        PredictionsWriter.writeLines(predictions, lines.stream().map(PredictionLine::json).toList());
        ObjectNode node = JSON.createObjectNode().put("accuracy", summary.accuracy()).put("correct", correct).put("evaluated", lines.size());
        node.setAll(run.toJson());
        byte[] bytes = (JSON.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicFile.writeStream(fileOf(predictions), out -> out.write(bytes));
        return summary;
    }

    /** The summary beside {@code predictions}. */
    static EvalSummary read(Path predictions) throws IOException {
        Path file = fileOf(predictions);
        JsonNode node;
        try {
            node = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(predictions + " has no " + file.getFileName() + " beside it: not written by gemel eval", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": malformed JSON (" + e.getMessage() + ")", e);
        }
        if (node == null || !node.isObject()) throw new IllegalArgumentException(file + ": not a JSON object");
        JsonNode evaluated = node.get("evaluated"), correct = node.get("correct");
        if (evaluated == null || !evaluated.canConvertToInt() || correct == null || !correct.canConvertToInt())
            throw new IllegalArgumentException(file + ": no evaluated and correct counts");
        return new EvalSummary(EvalRun.fromJson(node, file.toString()), evaluated.asInt(), correct.asInt());
    }
}
