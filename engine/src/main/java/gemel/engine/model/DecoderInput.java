package gemel.engine.model;

/**
 * One forward step for a batch: {@code embeds} [batch, tokens, inputWidth] row-major.
 * {@code attentionMask} [batch, pastLength + tokens] with 1 for real positions and 0 for padding,
 * or null for all ones. {@code positions} [batch, tokens] or null: then they are derived from the
 * mask as Hugging Face does in generation (cumulative sum of the mask minus one; padded positions
 * get 1 in the Llama family and -1 in OPT, which adds its offset of 2 itself). Outputs at padded
 * positions are not meaningful (a query in left padding sees no key and gets zeros from attention).
 */
public record DecoderInput(float[] embeds, int batch, int tokens, int[] attentionMask, int[] positions) {
}
