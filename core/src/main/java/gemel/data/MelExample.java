package gemel.data;

import java.util.Objects;

/**
 * One mention to link, as the reference's JSON lines hold it: the text, the mention in it, the key of
 * the image that goes with the text, the gold entity id and the entity name to generate.
 *
 * @param text      the caption or sentence
 * @param mention   the surface form to link (usually a substring of {@code text}; not enforced)
 * @param imageKey  the image's URL (WikiDiverse) or file name (WikiMEL): the key of its feature vector
 * @param imageKeyKind which of the two JSON fields ({@code img_url} / {@code img_name}) holds the key
 * @param golden    the gold entity id (QID, Wikipedia URL, ...), {@value #NIL} when no KB entity fits
 * @param target    the entity name the model must generate
 */
public record MelExample(String text, String mention, String imageKey, ImageKeyKind imageKeyKind,
                         String golden, String target) {
    /** The gold id of a mention whose entity is not in the knowledge base. */
    public static final String NIL = "NIL";

    /** The JSON field that names the image. */
    public enum ImageKeyKind {
        URL("img_url"), NAME("img_name");

        private final String field;

        ImageKeyKind(String field) { this.field = field; }

        public String field() { return field; }
    }

    public MelExample {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(mention, "mention");
        Objects.requireNonNull(imageKey, "imageKey");
        Objects.requireNonNull(imageKeyKind, "imageKeyKind");
        Objects.requireNonNull(golden, "golden");
        Objects.requireNonNull(target, "target");
    }

    public boolean isNil() { return NIL.equals(golden); }

    /** True when the mention occurs verbatim in the text (about 97 % of WikiMEL's do). */
    public boolean mentionInText() { return text.contains(mention); }
}
