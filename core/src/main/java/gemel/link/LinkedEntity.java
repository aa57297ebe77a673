package gemel.link;

import java.util.List;

/**
 * One answer of the linker: the generated {@code name} (decoded, special tokens skipped, spaces
 * stripped as the reference compares it), the ids of the knowledge-base entities of that name
 * (empty when none: the mention is NIL for this answer), and the beam's score.
 */
public record LinkedEntity(String name, List<String> entityIds, double score, boolean ended) {
    public boolean isNil() { return entityIds.isEmpty(); }
}
