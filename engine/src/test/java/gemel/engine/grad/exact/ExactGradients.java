package gemel.engine.grad.exact;

import gemel.engine.config.HfConfig;
import gemel.engine.grad.Batch;
import gemel.engine.io.WeightSource;

/**
 * The double-precision reference of {@link gemel.engine.grad.InputGradients} (what the finite-difference
 * checks validate, and the oracle of the fp32 path). The causal-LM loss of a frozen decoder and its gradient with respect to the input embeddings
 * (no weight gradients: the model never changes). Loss = cross entropy over the tokens whose label
 * is not -100, averaged over them, with Hugging Face's shift: the logits at position t score the
 * label at t + 1. Computed in double precision. With {@code recompute} each layer's activations
 * are recomputed during the backward instead of kept, trading one more forward for memory.
 * Thread-safe: calls share only the read-only weights.
 */
public final class ExactGradients {
    /** Labels with this value are not scored. */
    public static final int IGNORE_INDEX = TrainingDecoder.IGNORE;

    private final TrainingDecoder decoder;
    private final boolean recompute;

    /** {@code loss} averaged over {@code targets} tokens; {@code gradients} [batch, tokens, inputWidth]. */
    public record Result(double loss, int targets, double[] gradients) {

        /** The gradients as float32 (e.g. to write an .npy or update a float mapper). */
        public float[] gradientsAsFloats() {
            float[] f = new float[gradients.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) gradients[i];
            return f;
        }
    }

    private ExactGradients(TrainingDecoder decoder, boolean recompute) {
        this.decoder = decoder;
        this.recompute = recompute;
    }

    /** Gradients for the model described by {@code config} whose weights are {@code weights} (kept open by the caller). */
    public static ExactGradients of(HfConfig config, WeightSource weights, boolean recompute) {
        return new ExactGradients(TrainingDecoder.load(config, weights), recompute);
    }

    /** The same model with activation recompute switched on or off. */
    public ExactGradients withRecompute(boolean on) { return new ExactGradients(decoder, on); }

    public boolean recompute() { return recompute; }

    public int inputWidth() { return decoder.inputWidth; }

    public int vocabSize() { return decoder.vocab; }

    /**
     * Loss and d loss / d inputs_embeds. {@code embeds} [batch, tokens, inputWidth];
     * {@code mask} [batch, tokens] (1 real, 0 padding) or null for all real; {@code positions}
     * [batch, tokens] or null to derive them from the mask; {@code labels} [batch, tokens].
     */
    public Result compute(double[] embeds, int batch, int tokens, int[] mask, int[] positions, int[] labels) {
        Batch b = batch(batch, tokens, mask, positions, labels);
        TrainingDecoder.Pass pass = decoder.run(embeds, b, labels, true, recompute);
        return new Result(pass.loss(), pass.targets(), pass.dEmbeds());
    }

    /** {@link #compute} from float32 embeddings. */
    public Result compute(float[] embeds, int batch, int tokens, int[] mask, int[] positions, int[] labels) {
        double[] d = new double[embeds.length];
        for (int i = 0; i < d.length; i++) d[i] = embeds[i];
        return compute(d, batch, tokens, mask, positions, labels);
    }

    /** The loss alone (no backward). */
    public double loss(double[] embeds, int batch, int tokens, int[] mask, int[] positions, int[] labels) {
        return decoder.run(embeds, batch(batch, tokens, mask, positions, labels), labels, false, recompute).loss();
    }

    /** Logits [batch * tokens, vocab] of every position, from the same double-precision forward. */
    public double[] logits(double[] embeds, int batch, int tokens, int[] mask, int[] positions) {
        return decoder.logits(embeds, batch(batch, tokens, mask, positions, null));
    }

    /** Bytes of activations one {@link #compute} holds at its peak for this batch shape, with or without recompute. */
    public long activationBytes(int batch, int tokens, boolean withRecompute) {
        return Double.BYTES * decoder.activationDoubles(batch(batch, tokens, null, null, null), withRecompute);
    }

    private static Batch batch(int batch, int tokens, int[] mask, int[] positions, int[] labels) {
        int rows = batch * tokens;
        if (batch <= 0 || tokens <= 0) throw new IllegalArgumentException("empty batch: " + batch + " x " + tokens);
        if (mask == null) mask = java.util.stream.IntStream.generate(() -> 1).limit(rows).toArray();
        if (mask.length != rows) throw new IllegalArgumentException("attention mask has " + mask.length + " entries, expected " + batch + " x " + tokens);
        if (labels != null && labels.length != rows) throw new IllegalArgumentException("labels have " + labels.length + " entries, expected " + batch + " x " + tokens);
        if (positions == null) positions = Batch.positionsFromMask(mask, batch, tokens);
        if (positions.length != rows) throw new IllegalArgumentException("positions have " + positions.length + " entries, expected " + batch + " x " + tokens);
        return new Batch(batch, tokens, mask, positions);
    }
}
