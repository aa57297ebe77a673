package gemel.engine.grad;

/**
 * The shape of one training batch: {@code rows = batch * tokens} activation rows, row
 * {@code b * tokens + t}. {@code mask} [batch, tokens] is 1 for real tokens and 0 for padding;
 * {@code positions} [batch, tokens] are the position ids (before any model-specific offset).
 */
public record Batch(int batch, int tokens, int[] mask, int[] positions) {

    public int rows() { return batch * tokens; }

    public boolean real(int b, int t) { return mask[b * tokens + t] != 0; }

    /** Hugging Face's ids from a mask: cumulative count of real tokens minus one, padding at 1 (generation's rule). */
    public static int[] positionsFromMask(int[] mask, int batch, int tokens) {
        int[] positions = new int[batch * tokens];
        for (int b = 0; b < batch; b++) {
            int seen = 0;
            for (int t = 0; t < tokens; t++) {
                int i = b * tokens + t;
                if (mask[i] != 0) positions[i] = seen++;
                else positions[i] = 1;
            }
        }
        return positions;
    }
}
