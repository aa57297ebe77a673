package gemel.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/** Small helpers for reading whole JSON files with errors that name the file and the place. */
final class JsonFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonFiles() {}

    static JsonNode read(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": malformed JSON: " + e.getOriginalMessage()
                    + " at line " + e.getLocation().getLineNr(), e);
        }
    }

    static JsonNode requireObject(JsonNode node, String where) {
        if (node == null || !node.isObject()) throw new IllegalArgumentException(where + ": expected a JSON object");
        return node;
    }

    static JsonNode requireArray(JsonNode node, String where) {
        if (node == null || !node.isArray()) throw new IllegalArgumentException(where + ": expected a JSON array");
        return node;
    }

    /** The non-empty text at {@code node}; {@code where} names it in the error. */
    static String requireText(JsonNode node, String where) {
        if (node == null || !node.isTextual()) throw new IllegalArgumentException(where + ": expected text");
        if (node.asText().isEmpty()) throw new IllegalArgumentException(where + ": empty");
        return node.asText();
    }
}
