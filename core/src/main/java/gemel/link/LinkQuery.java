package gemel.link;

import java.util.List;
import java.util.Objects;

/** One mention to link: its text, the mention, its image feature [dimClip] and the demonstrations shown before it, in prompt order. */
public record LinkQuery(String text, String mention, float[] image, List<Demonstration> demonstrations) {
    public LinkQuery {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(mention, "mention");
        Objects.requireNonNull(image, "image");
        demonstrations = List.copyOf(demonstrations);
    }
}
