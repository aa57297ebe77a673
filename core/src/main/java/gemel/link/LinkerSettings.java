package gemel.link;

/**
 * Everything about how the linker answers beyond the model and the knowledge base. {@link #reference()}
 * is the reference's behaviour; each other value is a named deviation:
 * <ul>
 *   <li>{@code decoding}: beams, token limit, length penalty, with or without the prefix tree
 *       ({@code --no-tree}), how many beams to return ({@code --top-k});</li>
 *   <li>{@code nilThreshold}: a best answer scoring below it is reported as NIL ({@code --nil-threshold});
 *       negative infinity (the reference) never does;</li>
 *   <li>{@code zeroImages}: every image feature, the query's and the demonstrations', is replaced by
 *       zeros ({@code --no-image}), so the visual prefix tokens carry only the mapper's bias and the
 *       prompt keeps its layout and length.</li>
 * </ul>
 */
public record LinkerSettings(DecodingOptions decoding, double nilThreshold, boolean zeroImages) {
    public LinkerSettings {
        if (decoding == null) throw new IllegalArgumentException("decoding options are required");
        if (Double.isNaN(nilThreshold)) throw new IllegalArgumentException("the NIL threshold must be a number");
    }

    public static LinkerSettings reference() { return of(DecodingOptions.reference()); }

    /** These decoding options, never NIL by score, real image features. */
    public static LinkerSettings of(DecodingOptions decoding) { return new LinkerSettings(decoding, Double.NEGATIVE_INFINITY, false); }
}
