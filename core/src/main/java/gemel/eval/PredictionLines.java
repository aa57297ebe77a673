package gemel.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.batch.ResultLine;
import gemel.link.LinkedEntity;
import java.util.List;

/**
 * Predictions as the JSON lines of a predictions file, one per record:
 * {@code {"index", "mention", "golden", "target", "prediction", "correct", "nil", "entity_id", "entity_ids",
 * "beams": [{"text", "score", "entity_ids"}, ...]}}; {@link gemel.batch.ResultJournal} writes them out.
 */
public final class PredictionLines {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PredictionLines() {}

    /** A prediction as the result line of an evaluation run, its JSON as {@link #line} writes it. */
    public static ResultLine result(Prediction p) { return new ResultLine(p.index(), line(p), p.correct()); }

    /** Adds {@code "beams": [{"text", "score", "entity_ids"}, ...]} to {@code node}. */
    public static void putBeams(ObjectNode node, List<LinkedEntity> beams) {
        var array = node.putArray("beams");
        for (LinkedEntity b : beams) {
            var beam = array.addObject().put("text", b.text()).put("score", b.score());
            b.entityIds().forEach(beam.putArray("entity_ids")::add);
        }
    }

    /** One prediction as a JSON line, without its newline. */
    public static String line(Prediction p) {
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
