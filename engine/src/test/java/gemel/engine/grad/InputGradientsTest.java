package gemel.engine.grad;

import static gemel.engine.grad.exact.InputGradientContract.LABELS;
import static gemel.engine.grad.exact.InputGradientContract.MASK;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.config.HfConfig;
import gemel.engine.grad.exact.ExactGradients;
import gemel.engine.grad.exact.InputGradientContract;
import gemel.engine.grad.exact.TinyModels;
import gemel.engine.io.TensorView;
import gemel.engine.io.WeightSource;
import gemel.engine.model.DecoderParts;
import gemel.engine.model.Decoders;
import gemel.engine.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The fp32 path against the double-precision oracle ({@link ExactGradients}, itself checked by finite
 * differences) on every supported family, plus recompute, padding and memory invariants.
 */
class InputGradientsTest {
    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    /** The fp32 path as {@link InputGradientContract} runs it. */
    private static InputGradientContract.Implementation fp32(InputGradients g) {
        return (embeds, batch, tokens, mask, labels) -> {
            InputGradients.Result r = g.compute(toFloats(embeds), batch, tokens, mask, null, labels);
            return new InputGradientContract.Outcome(r.loss(), toDoubles(r.gradients()));
        };
    }

    /** Loss, gradients and logits of the fp32 path within fp32 rounding of the oracle's, with and without recompute. */
    private static void agreesWithOracle(String what, TinyModels.Model m) {
        InputGradients g = InputGradients.of(m.config(), m.weights(), false);
        ExactGradients exact = ExactGradients.of(m.config(), m.weights(), false);
        float[] embeds = random(new Random(5), 2 * 6 * g.inputWidth());
        InputGradients.Result fast = g.compute(embeds, 2, 6, MASK, null, LABELS);
        ExactGradients.Result slow = exact.compute(toDoubles(embeds), 2, 6, MASK, null, LABELS);
        assertEquals(slow.targets(), fast.targets());
        assertEquals(slow.loss(), fast.loss(), 1e-5 * Math.max(1, Math.abs(slow.loss())), what + " loss");
        double scale = Arrays.stream(slow.gradients()).map(Math::abs).max().orElseThrow();
        assertTrue(scale > 1e-3, what + ": the gradient is not degenerate");
        for (int i = 0; i < slow.gradients().length; i++)
            assertEquals(slow.gradients()[i], fast.gradients()[i], 1e-5 * scale, what + " d loss / d embeds[" + i + "]");
        for (int i = 10 * g.inputWidth(); i < 12 * g.inputWidth(); i++) assertEquals(0f, fast.gradients()[i], what + ": padding gets no gradient");
        assertArrayEquals(fast.gradients(), g.withRecompute(true).compute(embeds, 2, 6, MASK, null, LABELS).gradients(), what + ": recompute");

        float[] logits = g.logits(embeds, 2, 6, MASK, null);
        double[] expected = exact.logits(toDoubles(embeds), 2, 6, MASK, null);
        for (int r = 0; r < 12; r++) {
            if (MASK[r] == 0) continue; // the oracle's padding queries attend to nothing; so do these, but their rows carry no loss
            for (int c = 0; c < g.vocabSize(); c++)
                assertEquals(expected[r * g.vocabSize() + c], logits[r * g.vocabSize() + c], 1e-5 * Math.max(1, Math.abs(expected[r * g.vocabSize() + c])), what + " logit");
        }
    }

    @Test
    void optPreNorm() { agreesWithOracle("OPT pre-LN", TinyModels.optPreNorm()); }

    @Test
    void opt350mStyle() { agreesWithOracle("OPT-350m style", TinyModels.opt350mStyle()); }

    @Test
    void llamaGroupedQueryAttention() { agreesWithOracle("Llama GQA + llama3 rope", TinyModels.llamaGqa()); }

    @Test
    void qwen2Biases() { agreesWithOracle("Qwen2", TinyModels.qwen2()); }

    @Test
    void mistralSlidingWindow() { agreesWithOracle("Mistral", TinyModels.mistral()); }

    /**
     * The target: a 1,536-token prompt through OPT-1.3B must train in 24 GB. The weights
     * (fp16, 2.6 GB) are memory-mapped; the activations are what recompute shrinks. The config is
     * OPT-1.3B's; the weights are zero-filled views of one buffer (the accounting multiplies no weights).
     */
    @Test
    void opt13bAt1536TokensFitsIn24GbOnlyWithRecompute() {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add("OPTForCausalLM");
        c.put("model_type", "opt").put("hidden_size", 2048).put("num_attention_heads", 32).put("num_hidden_layers", 24)
                .put("ffn_dim", 8192).put("vocab_size", 50272).put("max_position_embeddings", 2048).put("word_embed_proj_dim", 2048);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zeros = arena.allocate(50272L * 2048 * 2);
            WeightSource w = new WeightSource() {
                @Override public Set<String> names() { return Set.of(); }
                @Override public boolean contains(String name) { return name.equals("model.decoder.embed_tokens.weight"); }
                @Override public TensorView tensor(String name) {
                    long[] shape = name.contains("embed_tokens") ? new long[] {50272, 2048} : name.contains("embed_positions") ? new long[] {2050, 2048}
                            : name.contains("fc1.weight") ? new long[] {8192, 2048} : name.contains("fc2.weight") ? new long[] {2048, 8192}
                            : name.contains("fc1.bias") ? new long[] {8192} : name.endsWith("_proj.weight") ? new long[] {2048, 2048} : new long[] {2048};
                    long n = 1;
                    for (long d : shape) n *= d;
                    return new TensorView(name, Path.of("opt-1.3b"), DType.F16, shape, zeros.asSlice(0, 2 * n));
                }
                @Override public void close() { }
            };
            InputGradients g = InputGradients.of(HfConfig.of(Path.of("opt-1.3b/config.json"), c), w, true);
            long with = g.activationBytes(1, 1536, true), without = g.activationBytes(1, 1536, false);
            System.out.printf("OPT-1.3B, 1,536 tokens: activations %.2f GB with recompute, %.2f GB without%n", with / 1e9, without / 1e9);
            long rows = 1536, hidden = 2048, perBlock = rows * (2 * hidden + 3 * hidden + 8192);
            assertEquals(Float.BYTES * (2 * 24 * rows * hidden + perBlock), with, "an input and a middle per block, one block's activations");
            assertEquals(Float.BYTES * 24 * perBlock, without, "every block's activations");
            assertTrue(without + 2.6e9 < 24e9, "both fit: " + without);
        }
    }

    @Test
    void paddedRowEqualsTheUnpaddedRow() {
        InputGradients g = InputGradients.of(TinyModels.optPreNorm().config(), TinyModels.optPreNorm().weights(), false);
        InputGradientContract.assertPaddedRowEqualsTheUnpaddedRow(g.inputWidth(), fp32(g), 1e-6);
    }

    @Test
    void memoryAccountingCountsWhatABlockReallyKeeps() {
        TinyModels.Model m = TinyModels.llamaGqa();
        DecoderParts parts = DecoderParts.of(Decoders.load(m.config(), m.weights()));
        TrainingDecoder decoder = new TrainingDecoder(parts);
        int[] mask = new int[12];
        Arrays.fill(mask, 1);
        Batch batch = new Batch(2, 6, mask, Batch.positionsFromMask(mask, 2, 6));
        TrainingBlock block = new TrainingBlock(parts, parts.blocks().getFirst());
        TrainingBlock.Saved s = block.forward(random(new Random(1), 12 * 16), batch).saved();
        IdentityHashMap<float[], Boolean> arrays = new IdentityHashMap<>();
        for (float[] a : new float[][] {s.norm1In(), s.q(), s.k(), s.v(), s.norm2In(), s.pre(), s.up()}) arrays.put(a, true);
        long held = arrays.keySet().stream().mapToLong(a -> a.length).sum();
        assertEquals(held, block.savedFloats(12));
        InputGradients g = InputGradients.of(m.config(), m.weights(), false);
        assertEquals(2 * held * Float.BYTES, g.activationBytes(2, 6, false));
        assertEquals(2, block.recomputeInputs(), "pre-norm: the input, which is the first norm's, and the second norm's");
        assertEquals((2L * 2 * 12 * 16 + held) * Float.BYTES, g.activationBytes(2, 6, true)); // two blocks
        assertEquals(decoder.activationFloats(batch, true) * Float.BYTES, g.activationBytes(2, 6, true));
    }

    @Test
    void badInputsAreErrorsThatSaySo() {
        InputGradients g = InputGradients.of(TinyModels.optPreNorm().config(), TinyModels.optPreNorm().weights(), false);
        InputGradientContract.assertBadInputsAreRefused(g.inputWidth(), fp32(g));
    }
}
