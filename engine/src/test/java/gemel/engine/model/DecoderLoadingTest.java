package gemel.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.config.HfConfig;
import gemel.engine.grad.exact.ExactGradients;
import gemel.engine.tensor.DType;
import org.junit.jupiter.api.Test;

/** What the loaders refuse, and that their errors name the culprit. */
class DecoderLoadingTest {

    private static String failure(HfConfig config, MemoryWeights weights) {
        var e = assertThrows(IllegalArgumentException.class, () -> Decoders.load(config, weights));
        assertTrue(weights.closed, "weights are released when loading fails");
        return e.getMessage();
    }

    @Test
    void unknownArchitectureIsNamed() {
        ObjectNode json = TinyModels.llamaConfig("LlamaForCausalLM");
        json.putArray("architectures").add("GPTNeoXForCausalLM");
        HfConfig c = TinyModels.of(json);
        assertTrue(failure(c, new MemoryWeights(1, DType.F32)).contains("GPTNeoXForCausalLM"));
    }

    @Test
    void aWeightOfTheWrongShapeIsNamed() {
        HfConfig c = TinyModels.of(TinyModels.llamaConfig("LlamaForCausalLM"));
        MemoryWeights w = TinyModels.llamaWeights(c, DType.F32, 1);
        w.add("model.layers.1.self_attn.k_proj.weight", 0, 1, TinyModels.HIDDEN, TinyModels.HIDDEN); // MHA-sized under a GQA config
        String message = failure(c, w);
        assertTrue(message.contains("model.layers.1.self_attn.k_proj.weight") && message.contains("[12, 24]"), message);
    }

    @Test
    void aMissingBiasOrHeadIsNamed() {
        HfConfig qwen = TinyModels.of(TinyModels.llamaConfig("Qwen2ForCausalLM"));
        MemoryWeights w = TinyModels.llamaWeights(qwen, DType.F32, 1);
        w.remove("model.layers.0.self_attn.v_proj.bias");
        assertTrue(failure(qwen, w).contains("model.layers.0.self_attn.v_proj.bias"));
        HfConfig llama = TinyModels.of(TinyModels.llamaConfig("LlamaForCausalLM"));
        MemoryWeights untied = TinyModels.llamaWeights(llama, DType.F32, 1);
        untied.remove("lm_head.weight");
        assertTrue(failure(llama, untied).contains("lm_head.weight"));
    }

    @Test
    void tiedHeadsReadTheEmbedding() {
        ObjectNode json = TinyModels.llamaConfig("LlamaForCausalLM");
        json.put("tie_word_embeddings", true);
        HfConfig c = TinyModels.of(json);
        MemoryWeights w = TinyModels.llamaWeights(c, DType.F32, 1);
        w.remove("lm_head.weight");
        try (CausalLM lm = Decoders.load(c, w)) {
            assertEquals(TinyModels.VOCAB, lm.forward(new DecoderInput(lm.embed(4, 5), 1, 2, null, null), lm.newCache(1, 2), new int[] {1}).length);
        }
    }

    @Test
    void optAcceptsThePrefixlessNaming() {
        HfConfig c = TinyModels.of(TinyModels.optConfig(true, TinyModels.HIDDEN));
        MemoryWeights prefixed = TinyModels.optWeights(c, DType.F32, 5);
        // same tensors, named decoder.* as opt-350m's checkpoint does
        MemoryWeights renamed = new MemoryWeights(0, DType.F32);
        for (String name : prefixed.names()) renamed.put(name.substring("model.".length()), prefixed.tensor(name));
        try (CausalLM a = Decoders.load(c, prefixed); CausalLM b = Decoders.load(c, renamed)) {
            float[] la = a.forward(new DecoderInput(a.embed(4, 5, 6), 1, 3, null, null), a.newCache(1, 3), null);
            float[] lb = b.forward(new DecoderInput(b.embed(4, 5, 6), 1, 3, null, null), b.newCache(1, 3), null);
            assertEquals(java.util.Arrays.toString(la), java.util.Arrays.toString(lb));
        }
    }

    /**
     * Beyond sliding_window positions Mistral masks the keys that slid out of a query's window: logits of a
     * whole left-padded batch, and of a short prompt continued one token at a time from the cache, agree
     * with the double-precision oracle of the training tests (a window of 3 over 9 positions).
     */
    @Test
    void mistralSlidesItsWindowAsTheOracleDoes() {
        gemel.engine.grad.exact.TinyModels.Model m = gemel.engine.grad.exact.TinyModels.mistral();
        int batch = 2, tokens = 9, prompt = 4;
        int[] mask = new int[batch * tokens];
        java.util.Arrays.fill(mask, 1);
        mask[tokens] = mask[tokens + 1] = 0; // the second row is left-padded by two
        ExactGradients exact = ExactGradients.of(m.config(), m.weights(), false);
        int width = exact.inputWidth(), vocab = exact.vocabSize();
        java.util.Random random = new java.util.Random(7);
        float[] embeds = new float[batch * tokens * width];
        double[] wide = new double[embeds.length];
        for (int i = 0; i < embeds.length; i++) wide[i] = embeds[i] = (float) random.nextGaussian();
        double[] expected = exact.logits(wide, batch, tokens, mask, null);
        try (CausalLM lm = Decoders.load(m.config(), m.weights())) {
            float[] whole = lm.forward(new DecoderInput(embeds, batch, tokens, mask, null), lm.newCache(batch, tokens), null);
            for (int r = 0; r < batch * tokens; r++) assertRow(expected, r, whole, r, vocab, mask[r] == 1, "whole sequence, row " + r);

            KvCache cache = lm.newCache(batch, tokens);
            for (int from = 0; from < tokens; ) {
                int n = from == 0 ? prompt : 1, to = from + n;
                float[] part = new float[batch * n * width];
                int[] seen = new int[batch * to];
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(embeds, (b * tokens + from) * width, part, b * n * width, n * width);
                    System.arraycopy(mask, b * tokens, seen, b * to, to);
                }
                float[] logits = lm.forward(new DecoderInput(part, batch, n, seen, null), cache, null);
                for (int b = 0; b < batch; b++) {
                    for (int t = 0; t < n; t++) {
                        int r = b * tokens + from + t;
                        assertRow(expected, r, logits, b * n + t, vocab, mask[r] == 1, "cached, position " + (from + t) + " of row " + b);
                    }
                }
                from = to;
            }
        }
    }

    /** A padding row attends to nothing in the oracle, so only real rows are compared. */
    private static void assertRow(double[] expected, int er, float[] actual, int ar, int vocab, boolean real, String what) {
        if (!real) return;
        for (int c = 0; c < vocab; c++)
            assertEquals(expected[er * vocab + c], actual[ar * vocab + c], 1e-5 * Math.max(1, Math.abs(expected[er * vocab + c])), what);
    }

    /** Qwen2 slides only layers from max_window_layers on, and only with use_sliding_window: none, all, or an error. */
    @Test
    void qwen2SlidesOnlyWithUseSlidingWindowAndWholeModels() {
        ObjectNode qwen = TinyModels.llamaConfig("Qwen2ForCausalLM");
        qwen.put("sliding_window", 4).put("use_sliding_window", false);
        HfConfig q = TinyModels.of(qwen);
        try (CausalLM lm = Decoders.load(q, TinyModels.llamaWeights(q, DType.F32, 1))) {
            lm.forward(new DecoderInput(lm.embed(4, 5, 6, 7, 8, 9), 1, 6, null, null), lm.newCache(1, 6), new int[0]);
        }
        qwen.put("use_sliding_window", true).put("max_window_layers", 1);
        HfConfig some = TinyModels.of(qwen);
        var e = assertThrows(IllegalArgumentException.class, () -> Decoders.load(some, TinyModels.llamaWeights(some, DType.F32, 1)));
        assertTrue(e.getMessage().contains("max_window_layers 1"), e.getMessage());
    }
}
