package gemel.link;

import java.util.List;

/**
 * The linker's answer to one query: the returned beams, best first ({@code beams.get(0)} is the
 * prediction), and whether the mention is NIL: the best name is not a knowledge-base entity, or its
 * score is below the NIL threshold.
 */
public record LinkResult(List<LinkedEntity> beams, boolean nil) {
    public LinkResult {
        if (beams.isEmpty()) throw new IllegalArgumentException("a link result needs at least one beam");
        beams = List.copyOf(beams);
    }

    /** The best beam, whether or not it is NIL. */
    public LinkedEntity best() { return beams.get(0); }

    /** The linked entity, or null when NIL. */
    public LinkedEntity entity() { return nil ? null : beams.get(0); }
}
