package gemel.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One result of a batch run (a prediction of {@code eval}, a linked mention of {@code link --input}): its JSON line
 * as written, kept as text so that lines gathered from a journal or from shards come out byte for byte, with the
 * record {@code index} it answers and, for an evaluation, whether it is {@code correct} (null otherwise).
 */
public record ResultLine(int index, String json, Boolean correct) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public ResultLine {
        if (index < 0) throw new IllegalArgumentException("result of record " + index);
    }

    /** The line {@code json}, which holds its "index" and, for an evaluation, "correct"; {@code where} names it in errors. */
    static ResultLine parse(String json, String where) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(where + ": malformed JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (node == null || !node.isObject()) throw new IllegalArgumentException(where + ": not a JSON object");
        JsonNode index = node.get("index"), correct = node.get("correct");
        if (index == null || !index.canConvertToInt() || index.asInt() < 0 || correct != null && !correct.isBoolean())
            throw new IllegalArgumentException(where + ": not a result line (no record index, or a 'correct' that is not true or false)");
        return new ResultLine(index.asInt(), json, correct == null ? null : correct.asBoolean());
    }
}
