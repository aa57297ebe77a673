package gemel.engine.grad;

import java.util.Arrays;

/**
 * The shape of one training batch: {@code rows = batch * tokens} activation rows, row
 * {@code b * tokens + t}. {@code mask} [batch, tokens] is 1 for real tokens and 0 for padding;
 * {@code positions} [batch, tokens] are the position ids (before any model-specific offset).
 */
public record Batch(int batch, int tokens, int[] mask, int[] positions) {

    /** A checked batch: mask null for all real, positions null to derive them from the mask. */
    public static Batch of(int batch, int tokens, int[] mask, int[] positions) {
        if (batch <= 0 || tokens <= 0) throw new IllegalArgumentException("empty batch: " + batch + " x " + tokens);
        int rows = batch * tokens;
        if (mask == null) {
            mask = new int[rows];
            Arrays.fill(mask, 1);
        }
        if (mask.length != rows) throw new IllegalArgumentException("attention mask has " + mask.length + " entries, expected " + batch + " x " + tokens);
        if (positions == null) positions = positionsFromMask(mask, batch, tokens);
        if (positions.length != rows) throw new IllegalArgumentException("positions have " + positions.length + " entries, expected " + batch + " x " + tokens);
        return new Batch(batch, tokens, mask, positions);
    }

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
