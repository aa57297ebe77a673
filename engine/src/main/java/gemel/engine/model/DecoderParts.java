package gemel.engine.model;

import gemel.engine.io.TensorView;
import gemel.engine.kernel.Activation;
import gemel.engine.kernel.LayerNorm;
import gemel.engine.kernel.RmsNorm;
import gemel.engine.kernel.Rope;
import java.util.List;

/**
 * The blocks of a loaded decoder, for code that runs them in another order than
 * {@link CausalLM#forward} (a training pass that keeps activations for a backward). The weights are
 * the decoder's own views, already checked against its config. Both families fit: OPT (LayerNorm,
 * learned positions, pre- or post-norm, optional project_in/out, plain MLP) and the Llama family
 * (RMSNorm, rotary positions, grouped key/value heads, gated MLP, optional sliding window).
 *
 * @param projectIn     [hidden, inputWidth] or null
 * @param positionTable learned positions [maxPositions + positionOffset, hidden], or null
 * @param normBefore    pre-norm blocks ({@code h = x + f(norm(x))}); false: post-norm ({@code h = norm(x + f(x))})
 * @param finalNorm     after the last block, or null
 * @param projectOut    [inputWidth, hidden] or null
 * @param head          [vocab, inputWidth], no bias
 * @param rope          rotary positions of q and k, or null
 * @param slidingWindow keys at distance >= window are invisible; 0: no window
 */
public record DecoderParts(ModelShape shape, Linear projectIn, TensorView positionTable, int positionOffset, boolean normBefore,
                           List<Block> blocks, Norm finalNorm, Linear projectOut, Linear head, Rope rope, Activation activation,
                           int slidingWindow) {

    /** A per-row normalization: exactly one of a LayerNorm and an RMSNorm. */
    public record Norm(LayerNorm layerNorm, RmsNorm rmsNorm) {
        public Norm {
            if ((layerNorm == null) == (rmsNorm == null)) throw new IllegalArgumentException("a norm is either a LayerNorm or an RMSNorm");
        }

        static Norm of(LayerNorm n) { return n == null ? null : new Norm(n, null); }

        static Norm of(RmsNorm n) { return new Norm(null, n); }

        /** x [rows, width] -> out [rows, width] (may be x). */
        public void apply(float[] x, int rows, float[] out) {
            if (layerNorm != null) layerNorm.apply(x, rows, out);
            else rmsNorm.apply(x, rows, out);
        }
    }

    /**
     * One transformer block: attention (q, k, v, o) and MLP {@code out(act(in(x)) [* up(x)])};
     * {@code up} is null for a plain MLP (OPT) and the gated branch otherwise (Llama's up_proj).
     */
    public record Block(Norm attentionNorm, Linear q, Linear k, Linear v, Linear o, Norm mlpNorm, Linear in, Linear up, Linear out) {}

    /** The parts of a model loaded by {@link Decoders}; any other {@link CausalLM} is an error naming its class. */
    public static DecoderParts of(CausalLM model) {
        return switch (model) {
            case OptDecoder opt -> opt.parts();
            case LlamaDecoder llama -> llama.parts();
            default -> throw new IllegalArgumentException(model.getClass().getName() + " does not expose its blocks");
        };
    }
}
