package gemel.engine.model;

/**
 * A decoder-only language model loaded from a Hugging Face folder (OPT, Llama, Qwen2, Mistral).
 * Inputs are always embeddings of width {@link ModelShape#inputWidth()}: token ids go through
 * {@link #embed}, so text pieces and image-token embeddings mix freely in one sequence.
 * Thread-safe for concurrent calls on distinct caches.
 */
public interface CausalLM extends AutoCloseable {

    ModelShape shape();

    /** Writes the input embedding of {@code tokenId} into {@code out[offset .. offset + inputWidth)}. */
    void embed(int tokenId, float[] out, int offset);

    /** The input embeddings of {@code ids}, [ids.length, inputWidth]. */
    default float[] embed(int... ids) {
        int width = shape().inputWidth();
        float[] out = new float[ids.length * width];
        for (int i = 0; i < ids.length; i++) embed(ids[i], out, i * width);
        return out;
    }

    /** An empty cache for {@code batch} rows of up to {@code capacity} positions each. */
    KvCache newCache(int batch, int capacity);

    /**
     * Runs {@code input.tokens()} new positions for each of the {@code input.batch()} rows on top of
     * what {@code cache} holds, appends their keys/values to it, and returns the logits
     * [logitRows.length, vocabSize] of the asked rows (row index = b * tokens + t), or of all rows
     * when {@code logitRows} is null.
     */
    float[] forward(DecoderInput input, KvCache cache, int[] logitRows);

    @Override
    void close();
}
