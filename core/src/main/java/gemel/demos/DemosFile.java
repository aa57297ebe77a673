package gemel.demos;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.io.AtomicFile;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Demonstrations fixed in a file ({@code --demos-file} / {@code --save-demos}): JSON lines, one per
 * evaluated example in order, {@code {"demos": [i, j, ...]}} with 0-based indices into the training
 * file's kept records, in prompt order (least similar first).
 */
public final class DemosFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DemosFile() {}

    public static void write(Path file, List<int[]> demos) throws IOException {
        AtomicFile.writeStream(file, out -> {
            for (int[] d : demos) {
                ObjectNode node = JSON.createObjectNode();
                ArrayNode array = node.putArray("demos");
                for (int i : d) array.add(i);
                out.write(JSON.writeValueAsBytes(node));
                out.write('\n');
            }
        });
    }

    /**
     * Reads the demonstrations and checks every index against {@code trainingSize}; any bad line is an
     * error naming the file and line.
     */
    public static List<int[]> read(Path file, int trainingSize) throws IOException {
        List<int[]> out = new ArrayList<>();
        int lineNo = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = in.readLine()) != null; ) {
                lineNo++;
                String where = file + " line " + lineNo;
                if (line.isBlank()) throw new IllegalArgumentException(where + ": blank line (one line per example)");
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new IllegalArgumentException(where + ": malformed JSON (" + e.getOriginalMessage() + ")", e);
                }
                JsonNode demos = node == null ? null : node.get("demos");
                if (demos == null || !demos.isArray())
                    throw new IllegalArgumentException(where + ": expected {\"demos\": [indices]}");
                int[] indices = new int[demos.size()];
                for (int k = 0; k < indices.length; k++) {
                    JsonNode v = demos.get(k);
                    if (!v.canConvertToInt() || !v.isIntegralNumber())
                        throw new IllegalArgumentException(where + ": demos[" + k + "] is not an integer: " + v);
                    indices[k] = v.intValue();
                    if (indices[k] < 0 || indices[k] >= trainingSize)
                        throw new IllegalArgumentException(where + ": demos[" + k + "] = " + indices[k]
                                + " is outside the " + trainingSize + " training records");
                }
                out.add(indices);
            }
        }
        return out;
    }
}
