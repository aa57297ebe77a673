package gemel.engine.grad;

import gemel.engine.config.HfConfig;
import gemel.engine.io.TensorView;
import gemel.engine.io.WeightSource;
import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderParts;
import gemel.engine.model.Decoders;
import java.util.Arrays;
import java.util.Set;

/**
 * The causal-LM loss of a frozen decoder and its gradient with respect to the input embeddings
 * (no weight gradients: the model never changes). Loss = cross entropy over the tokens whose label
 * is not -100, averaged over them, with Hugging Face's shift: the logits at position t score the
 * label at t + 1. Computed in fp32 on the engine's kernels, reading the weights in their stored
 * dtype, over the blocks the decoders load ({@link DecoderParts}). With {@code recompute} each
 * block's activations are recomputed during the backward instead of kept, trading one more forward
 * for memory. Thread-safe: calls share only the read-only weights.
 */
public final class InputGradients {
    /** Labels with this value are not scored. */
    public static final int IGNORE_INDEX = TrainingDecoder.IGNORE;

    private final TrainingDecoder decoder;
    private final boolean recompute;

    /** {@code loss} averaged over {@code targets} tokens; {@code gradients} [batch, tokens, inputWidth]. */
    public record Result(double loss, int targets, float[] gradients) {}

    private InputGradients(TrainingDecoder decoder, boolean recompute) {
        this.decoder = decoder;
        this.recompute = recompute;
    }

    /** Gradients for the model described by {@code config} whose weights are {@code weights} (kept open, and closed, by the caller). */
    public static InputGradients of(HfConfig config, WeightSource weights, boolean recompute) {
        return of(Decoders.load(config, new Borrowed(weights)), recompute);
    }

    /** Gradients through the blocks of a loaded decoder (which stays the caller's to close). */
    public static InputGradients of(CausalLM model, boolean recompute) {
        return new InputGradients(new TrainingDecoder(DecoderParts.of(model)), recompute);
    }

    /** The same model with activation recompute switched on or off. */
    public InputGradients withRecompute(boolean on) { return new InputGradients(decoder, on); }

    public boolean recompute() { return recompute; }

    public int inputWidth() { return decoder.inputWidth; }

    public int vocabSize() { return decoder.vocab; }

    /**
     * Loss and d loss / d inputs_embeds. {@code embeds} [batch, tokens, inputWidth];
     * {@code mask} [batch, tokens] (1 real, 0 padding) or null for all real; {@code positions}
     * [batch, tokens] or null to derive them from the mask; {@code labels} [batch, tokens].
     */
    public Result compute(float[] embeds, int batch, int tokens, int[] mask, int[] positions, int[] labels) {
        TrainingDecoder.Pass pass = decoder.run(embeds, batch(batch, tokens, mask, positions, labels), labels, true, recompute);
        return new Result(pass.loss(), pass.targets(), pass.dEmbeds());
    }

    /** The loss alone (no backward). */
    public double loss(float[] embeds, int batch, int tokens, int[] mask, int[] positions, int[] labels) {
        return decoder.run(embeds, batch(batch, tokens, mask, positions, labels), labels, false, recompute).loss();
    }

    /** Logits [batch * tokens, vocab] of every position, from the same forward. */
    public float[] logits(float[] embeds, int batch, int tokens, int[] mask, int[] positions) {
        return decoder.logits(embeds, batch(batch, tokens, mask, positions, null));
    }

    /** Bytes of activations one {@link #compute} holds at its peak for this batch shape, with or without recompute. */
    public long activationBytes(int batch, int tokens, boolean withRecompute) {
        return Float.BYTES * decoder.activationFloats(batch(batch, tokens, null, null, null), withRecompute);
    }

    private static Batch batch(int batch, int tokens, int[] mask, int[] positions, int[] labels) {
        int rows = batch * tokens;
        if (batch <= 0 || tokens <= 0) throw new IllegalArgumentException("empty batch: " + batch + " x " + tokens);
        if (mask == null) {
            mask = new int[rows];
            Arrays.fill(mask, 1);
        }
        if (mask.length != rows) throw new IllegalArgumentException("attention mask has " + mask.length + " entries, expected " + batch + " x " + tokens);
        if (labels != null && labels.length != rows) throw new IllegalArgumentException("labels have " + labels.length + " entries, expected " + batch + " x " + tokens);
        if (positions == null) positions = Batch.positionsFromMask(mask, batch, tokens);
        if (positions.length != rows) throw new IllegalArgumentException("positions have " + positions.length + " entries, expected " + batch + " x " + tokens);
        return new Batch(batch, tokens, mask, positions);
    }

    /** The caller's weights, which a decoder built here must not close. */
    private record Borrowed(WeightSource source) implements WeightSource {
        @Override public Set<String> names() { return source.names(); }

        @Override public boolean contains(String name) { return source.contains(name); }

        @Override public TensorView tensor(String name) { return source.tensor(name); }

        @Override public void close() {}
    }
}
