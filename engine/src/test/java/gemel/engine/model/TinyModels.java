package gemel.engine.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.config.HfConfig;
import gemel.engine.tensor.DType;
import java.nio.file.Path;

/** Tiny random decoders of each supported kind, built in memory for consistency tests. */
final class TinyModels {
    static final int VOCAB = 50, HIDDEN = 24, HEADS = 4, LAYERS = 2, FFN = 40, MAX_POSITIONS = 64;

    private TinyModels() {}

    static HfConfig config(String json) {
        try {
            return HfConfig.of(Path.of("memory/config.json"), new ObjectMapper().readTree(json));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** OPT with pre- or post-LN; inputWidth below HIDDEN adds project_in/out. */
    static ObjectNode optConfig(boolean normBefore, int inputWidth) {
        return (ObjectNode) config("""
                {"architectures": ["OPTForCausalLM"], "model_type": "opt", "vocab_size": %d, "hidden_size": %d, "num_attention_heads": %d,
                 "num_hidden_layers": %d, "ffn_dim": %d, "max_position_embeddings": %d, "word_embed_proj_dim": %d,
                 "do_layer_norm_before": %b, "activation_function": "relu", "pad_token_id": 1, "bos_token_id": 2, "eos_token_id": 2}
                """.formatted(VOCAB, HIDDEN, HEADS, LAYERS, FFN, MAX_POSITIONS, inputWidth, normBefore)).json();
    }

    static MemoryWeights optWeights(HfConfig c, DType dtype, long seed) {
        int in = c.integer("word_embed_proj_dim"), hidden = c.integer("hidden_size"), ffn = c.integer("ffn_dim");
        MemoryWeights w = new MemoryWeights(seed, dtype);
        String p = "model.decoder.";
        w.add(p + "embed_tokens.weight", 0, 0.3, c.integer("vocab_size"), in)
                .add(p + "embed_positions.weight", 0, 0.3, c.integer("max_position_embeddings") + 2, hidden);
        if (in != hidden) w.add(p + "project_in.weight", 0, 0.3, hidden, in).add(p + "project_out.weight", 0, 0.3, in, hidden);
        for (int i = 0; i < c.integer("num_hidden_layers"); i++) {
            String l = p + "layers." + i + ".";
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"})
                w.add(l + "self_attn." + proj + ".weight", 0, 0.25, hidden, hidden).add(l + "self_attn." + proj + ".bias", 0, 0.1, hidden);
            for (String norm : new String[] {"self_attn_layer_norm", "final_layer_norm"})
                w.add(l + norm + ".weight", 1, 0.2, hidden).add(l + norm + ".bias", 0, 0.1, hidden);
            w.add(l + "fc1.weight", 0, 0.25, ffn, hidden).add(l + "fc1.bias", 0, 0.1, ffn);
            w.add(l + "fc2.weight", 0, 0.2, hidden, ffn).add(l + "fc2.bias", 0, 0.1, hidden);
        }
        if (c.bool("do_layer_norm_before", true)) w.add(p + "final_layer_norm.weight", 1, 0.2, hidden).add(p + "final_layer_norm.bias", 0, 0.1, hidden);
        return w;
    }

    /** Llama family with 2 kv heads for 4 heads; Qwen2 has q/k/v biases, llama3 rope scaling on Llama. */
    static ObjectNode llamaConfig(String architecture) { return llamaConfig(architecture, HEADS, 2); }

    static ObjectNode llamaConfig(String architecture, int heads, int kvHeads) {
        return (ObjectNode) config("""
                {"architectures": ["%s"], "vocab_size": %d, "hidden_size": %d, "num_attention_heads": %d, "num_key_value_heads": %d,
                 "num_hidden_layers": %d, "intermediate_size": %d, "max_position_embeddings": %d, "rms_norm_eps": 1e-5,
                 "rope_theta": 500000.0, "hidden_act": "silu", "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2,
                 "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 16}}
                """.formatted(architecture, VOCAB, HIDDEN, heads, kvHeads, LAYERS, FFN, MAX_POSITIONS)).json();
    }

    static MemoryWeights llamaWeights(HfConfig c, DType dtype, long seed) {
        boolean qkvBias = c.architecture().equals("Qwen2ForCausalLM");
        int hd = HIDDEN / c.integer("num_attention_heads"), kv = c.integer("num_key_value_heads") * hd;
        MemoryWeights w = new MemoryWeights(seed, dtype);
        w.add("model.embed_tokens.weight", 0, 0.3, VOCAB, HIDDEN).add("model.norm.weight", 1, 0.2, HIDDEN).add("lm_head.weight", 0, 0.3, VOCAB, HIDDEN);
        for (int i = 0; i < LAYERS; i++) {
            String l = "model.layers." + i + ".";
            w.add(l + "self_attn.q_proj.weight", 0, 0.25, HIDDEN, HIDDEN).add(l + "self_attn.k_proj.weight", 0, 0.25, kv, HIDDEN)
                    .add(l + "self_attn.v_proj.weight", 0, 0.25, kv, HIDDEN).add(l + "self_attn.o_proj.weight", 0, 0.25, HIDDEN, HIDDEN);
            if (qkvBias) {
                w.add(l + "self_attn.q_proj.bias", 0, 0.1, HIDDEN).add(l + "self_attn.k_proj.bias", 0, 0.1, kv).add(l + "self_attn.v_proj.bias", 0, 0.1, kv);
            }
            w.add(l + "input_layernorm.weight", 1, 0.2, HIDDEN).add(l + "post_attention_layernorm.weight", 1, 0.2, HIDDEN);
            w.add(l + "mlp.gate_proj.weight", 0, 0.25, FFN, HIDDEN).add(l + "mlp.up_proj.weight", 0, 0.25, FFN, HIDDEN)
                    .add(l + "mlp.down_proj.weight", 0, 0.2, HIDDEN, FFN);
        }
        return w;
    }

    static HfConfig of(ObjectNode json) { return HfConfig.of(Path.of("memory/config.json"), json); }

    /** A one-layer pre-LN OPT of {@code heads} heads of {@code headDim}, for attention over long prompts. */
    static CausalLM wideHeadsOpt(int heads, int headDim, int maxPositions) {
        ObjectNode json = optConfig(true, heads * headDim);
        json.put("hidden_size", heads * headDim).put("num_attention_heads", heads).put("num_hidden_layers", 1)
                .put("max_position_embeddings", maxPositions);
        HfConfig c = of(json);
        return Decoders.load(c, optWeights(c, DType.F32, 13));
    }

    static CausalLM opt(boolean normBefore, int inputWidth, DType dtype) {
        HfConfig c = of(optConfig(normBefore, inputWidth));
        return Decoders.load(c, optWeights(c, dtype, 11));
    }

    static CausalLM llama(String architecture, DType dtype) { return llama(architecture, dtype, HEADS, 2); }

    static CausalLM llama(String architecture, DType dtype, int heads, int kvHeads) {
        HfConfig c = of(llamaConfig(architecture, heads, kvHeads));
        return Decoders.load(c, llamaWeights(c, dtype, 12));
    }
}
