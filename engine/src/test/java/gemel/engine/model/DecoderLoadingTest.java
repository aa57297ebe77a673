package gemel.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.config.HfConfig;
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

    @Test
    void mistralSequencesBeyondTheSlidingWindowAreRefused() {
        ObjectNode json = TinyModels.llamaConfig("MistralForCausalLM");
        json.put("sliding_window", 4);
        HfConfig c = TinyModels.of(json);
        try (CausalLM lm = Decoders.load(c, TinyModels.llamaWeights(c, DType.F32, 1))) {
            KvCache cache = lm.newCache(1, 8);
            lm.forward(new DecoderInput(lm.embed(4, 5, 6, 7), 1, 4, null, null), cache, null);
            var e = assertThrows(IllegalArgumentException.class, () -> lm.forward(new DecoderInput(lm.embed(8), 1, 1, null, null), cache, null));
            assertTrue(e.getMessage().contains("sliding_window"), e.getMessage());
        }
        ObjectNode qwen = TinyModels.llamaConfig("Qwen2ForCausalLM");
        qwen.put("sliding_window", 4).put("use_sliding_window", false);
        HfConfig q = TinyModels.of(qwen);
        try (CausalLM lm = Decoders.load(q, TinyModels.llamaWeights(q, DType.F32, 1))) {
            lm.forward(new DecoderInput(lm.embed(4, 5, 6, 7, 8, 9), 1, 6, null, null), lm.newCache(1, 6), new int[0]);
        }
    }
}
