package gemel.link;

import java.util.Objects;

/**
 * One in-context example shown before the query: its text, the mention in it, the feature of its
 * image [dimClip] and its gold answer (the entity name).
 */
public record Demonstration(String text, String mention, float[] image, String answer) {
    public Demonstration {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(mention, "mention");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(answer, "answer");
    }
}
