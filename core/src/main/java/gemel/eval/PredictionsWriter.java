package gemel.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.io.AtomicFile;
import gemel.link.LinkedEntity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;

/**
 * Writes predictions as JSON lines, one per record in order:
 * {@code {"index", "mention", "golden", "target", "prediction", "correct", "nil", "entity_id", "entity_ids",
 * "beams": [{"text", "score", "entity_ids"}, ...]}}. The file appears complete or not at all.
 */
public final class PredictionsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PredictionsWriter() {}

    public static void write(Path file, List<Prediction> predictions) throws IOException {
        writeLines(file, predictions.stream().map(PredictionsWriter::line).toList());
    }

    /** Lines as {@link #line} made them, each ended by a newline, in the order given. */
    static void writeLines(Path file, Collection<String> lines) throws IOException {
        AtomicFile.writeStream(file, out -> {
            for (String line : lines) {
                out.write(line.getBytes(StandardCharsets.UTF_8));
                out.write('\n');
            }
        });
    }

    /** Adds {@code "beams": [{"text", "score", "entity_ids"}, ...]} to {@code node}. */
    public static void putBeams(ObjectNode node, List<LinkedEntity> beams) {
        var array = node.putArray("beams");
        for (LinkedEntity b : beams) {
            var beam = array.addObject().put("text", b.text()).put("score", b.score());
            b.entityIds().forEach(beam.putArray("entity_ids")::add);
        }
    }

    /** One prediction as a JSON line, without its newline. */
    static String line(Prediction p) {
        var node = JSON.createObjectNode()
                .put("index", p.index())
                .put("mention", p.mention())
                .put("golden", p.golden())
                .put("target", p.target())
                .put("prediction", p.prediction())
                .put("correct", p.correct())
                .put("nil", p.nil())
                .put("entity_id", p.entityId());
        var ids = node.putArray("entity_ids");
        if (!p.nil()) p.beams().get(0).entityIds().forEach(ids::add);
        putBeams(node, p.beams());
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("prediction " + p.index() + " cannot be written as JSON", e);
        }
    }
}
