package gemel.engine.model;

/**
 * The sizes a caller of a {@link CausalLM} needs. {@code inputWidth} is the width of the input
 * embeddings (OPT-350m: {@code word_embed_proj_dim}, not {@code hiddenSize}).
 */
public record ModelShape(
        String architecture,
        int vocabSize,
        int inputWidth,
        int hiddenSize,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int maxPositions,
        int bosTokenId,
        int eosTokenId,
        int padTokenId) {
}
