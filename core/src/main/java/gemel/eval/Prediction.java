package gemel.eval;

import gemel.link.LinkedEntity;
import java.util.List;

/**
 * The outcome for one evaluated record: {@code index} its position among the evaluated records,
 * the record's mention, gold id and target name, the {@code prediction} (the decoded text of the best
 * beam, as the reference prints it), whether it is {@code correct} ({@code prediction.strip(" ") == target}; for a NIL
 * gold: the answer is NIL),
 * the linked {@code entityId} (null when the prediction is not a knowledge-base name or is NIL by score),
 * and the returned beams, best first.
 */
public record Prediction(int index, String mention, String golden, String target, String prediction, boolean correct,
                         boolean nil, String entityId, List<LinkedEntity> beams) {
    public Prediction {
        beams = List.copyOf(beams);
    }
}
