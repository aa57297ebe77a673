package gemel.engine.grad;

/**
 * The rows a causal language-model loss scores. Labels [rows] are shifted by one as Hugging Face's
 * loss does: row {@code b * tokens + t} is scored against {@code labels[b * tokens + t + 1]} wherever
 * that label is not {@link #IGNORE}; the last token of a sequence scores nothing.
 *
 * @param sources rows whose logits are scored [n], in row order
 * @param labels  their target token ids [n]
 */
public record Targets(int[] sources, int[] labels) {
    /** The label of a token that is not a target (HF's ignore_index). */
    public static final int IGNORE = -100;

    /** The targets of {@code labels} [rows] in {@code batch}; none at all is an error. */
    public static Targets of(Batch batch, int[] labels) {
        int T = batch.tokens(), n = 0;
        if (labels.length != batch.rows())
            throw new IllegalArgumentException("labels have " + labels.length + " entries, expected " + batch.batch() + " x " + T);
        for (int b = 0; b < batch.batch(); b++) for (int t = 0; t + 1 < T; t++) if (labels[b * T + t + 1] != IGNORE) n++;
        if (n == 0) throw new IllegalArgumentException("no target tokens: every label is " + IGNORE);
        int[] sources = new int[n], targets = new int[n];
        n = 0;
        for (int b = 0; b < batch.batch(); b++)
            for (int t = 0; t + 1 < T; t++)
                if (labels[b * T + t + 1] != IGNORE) {
                    sources[n] = b * T + t;
                    targets[n++] = labels[b * T + t + 1];
                }
        return new Targets(sources, targets);
    }

    public int count() { return sources.length; }
}
