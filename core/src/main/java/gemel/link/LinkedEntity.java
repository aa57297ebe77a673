package gemel.link;

import java.util.List;

/**
 * One answer of the linker (one returned beam): {@code text} is the generated text as the reference
 * decodes it (special tokens skipped, transformers' default clean-up), {@code name} the same with
 * leading and trailing spaces stripped as the reference compares it, {@code entityIds} the ids of the
 * knowledge-base entities of that name in knowledge-base order (empty when none: the answer is not a
 * KB entity), {@code score} the beam's length-normalised log-probability, {@code ended} false when the
 * beam was cut by the token limit.
 */
public record LinkedEntity(String name, String text, List<String> entityIds, double score, boolean ended) {
    public LinkedEntity {
        entityIds = List.copyOf(entityIds);
    }

    public boolean isNil() { return entityIds.isEmpty(); }

    /**
     * The id this answer links to: the first entity of that name in knowledge-base order (names may
     * repeat; {@link #entityIds} lists them all), null when the name is not in the knowledge base.
     */
    public String entityId() { return entityIds.isEmpty() ? null : entityIds.get(0); }
}
