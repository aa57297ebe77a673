package gemel.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One line of a predictions file as written ({@link PredictionsWriter}), kept as its text so that lines gathered from a
 * journal or from shards come out byte for byte as written, with what is needed to order and count them.
 */
record PredictionLine(int index, boolean correct, String json) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The line {@code json}; {@code where} names it in errors. */
    static PredictionLine parse(String json, String where) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(where + ": malformed JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (node == null || !node.isObject()) throw new IllegalArgumentException(where + ": not a JSON object");
        JsonNode index = node.get("index"), correct = node.get("correct");
        if (index == null || !index.canConvertToInt() || index.asInt() < 0 || correct == null || !correct.isBoolean())
            throw new IllegalArgumentException(where + ": not a prediction (no index or no correct)");
        return new PredictionLine(index.asInt(), correct.asBoolean(), json);
    }

    static PredictionLine of(Prediction p) { return new PredictionLine(p.index(), p.correct(), PredictionsWriter.line(p)); }
}
