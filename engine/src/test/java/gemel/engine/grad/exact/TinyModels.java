package gemel.engine.grad.exact;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.config.HfConfig;
import gemel.engine.io.TensorView;
import gemel.engine.io.WeightSource;
import gemel.engine.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/** Tiny random decoders held in memory (HF names and config keys), for gradient checks. */
public final class TinyModels {
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Model(HfConfig config, WeightSource weights) {
    }

    private TinyModels() {
    }

    public static Model optPreNorm() {
        ObjectNode c = base("OPTForCausalLM", "opt");
        c.put("hidden_size", 8).put("num_attention_heads", 2).put("num_hidden_layers", 2).put("ffn_dim", 12)
                .put("vocab_size", 11).put("max_position_embeddings", 16).put("do_layer_norm_before", true);
        Weights w = new Weights(1);
        opt(w, 8, 8, 12, 11, 16, 2, true);
        return new Model(HfConfig.of(Path.of("opt-prenorm/config.json"), c), w.source());
    }

    /** OPT-350m's shape: word_embed_proj_dim below hidden (project_in/out), post-LN, no final norm. */
    public static Model opt350mStyle() {
        ObjectNode c = base("OPTForCausalLM", "opt");
        c.put("hidden_size", 8).put("num_attention_heads", 2).put("num_hidden_layers", 2).put("ffn_dim", 12)
                .put("vocab_size", 11).put("max_position_embeddings", 16).put("do_layer_norm_before", false)
                .put("word_embed_proj_dim", 6);
        Weights w = new Weights(2);
        opt(w, 8, 6, 12, 11, 16, 2, false);
        w.put("model.decoder.project_in.weight", 0.4, 8, 6);
        w.put("model.decoder.project_out.weight", 0.4, 6, 8);
        return new Model(HfConfig.of(Path.of("opt-350m-style/config.json"), c), w.source());
    }

    /** Llama with grouped key/value heads (4 heads, 2 kv heads), llama3 rope scaling, untied head. */
    public static Model llamaGqa() {
        ObjectNode c = base("LlamaForCausalLM", "llama");
        c.put("hidden_size", 16).put("num_attention_heads", 4).put("num_key_value_heads", 2).put("num_hidden_layers", 2)
                .put("intermediate_size", 20).put("vocab_size", 13).put("rms_norm_eps", 1e-5).put("rope_theta", 500000.0)
                .put("tie_word_embeddings", false).put("max_position_embeddings", 64);
        ObjectNode s = c.putObject("rope_scaling");
        s.put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0).put("high_freq_factor", 4.0)
                .put("original_max_position_embeddings", 8);
        Weights w = new Weights(3);
        llama(w, 16, 4, 2, 4, 20, 13, false, false);
        w.put("lm_head.weight", 0.5, 13, 16);
        return new Model(HfConfig.of(Path.of("llama-gqa/config.json"), c), w.source());
    }

    /** Qwen2: q/k/v biases, tied head. */
    public static Model qwen2() {
        ObjectNode c = base("Qwen2ForCausalLM", "qwen2");
        c.put("hidden_size", 8).put("num_attention_heads", 2).put("num_key_value_heads", 1).put("num_hidden_layers", 2)
                .put("intermediate_size", 12).put("vocab_size", 9).put("rms_norm_eps", 1e-6).put("tie_word_embeddings", true)
                .put("max_position_embeddings", 64);
        Weights w = new Weights(4);
        llama(w, 8, 2, 1, 4, 12, 9, true, false);
        return new Model(HfConfig.of(Path.of("qwen2/config.json"), c), w.source());
    }

    /** Mistral with a sliding window shorter than the test sequences. */
    public static Model mistral() {
        ObjectNode c = base("MistralForCausalLM", "mistral");
        c.put("hidden_size", 8).put("num_attention_heads", 2).put("num_key_value_heads", 1).put("num_hidden_layers", 1)
                .put("intermediate_size", 12).put("vocab_size", 9).put("rms_norm_eps", 1e-6).put("sliding_window", 3)
                .put("tie_word_embeddings", false).put("max_position_embeddings", 64);
        Weights w = new Weights(5);
        llama(w, 8, 2, 1, 4, 12, 9, false, false);
        w.put("lm_head.weight", 0.5, 9, 8);
        return new Model(HfConfig.of(Path.of("mistral/config.json"), c), w.source());
    }

    private static ObjectNode base(String architecture, String type) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add(architecture);
        c.put("model_type", type);
        return c;
    }

    private static void opt(Weights w, int h, int in, int ffn, int vocab, int maxPos, int layers, boolean finalNorm) {
        String p = "model.decoder.";
        w.put(p + "embed_tokens.weight", 0.5, vocab, in);
        w.put(p + "embed_positions.weight", 0.3, maxPos + 2, h);
        for (int l = 0; l < layers; l++) {
            String q = p + "layers." + l + ".";
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                w.put(q + "self_attn." + proj + ".weight", 0.5, h, h);
                w.put(q + "self_attn." + proj + ".bias", 0.1, h);
            }
            w.put(q + "fc1.weight", 0.5, ffn, h);
            w.put(q + "fc1.bias", 0.1, ffn);
            w.put(q + "fc2.weight", 0.5, h, ffn);
            w.put(q + "fc2.bias", 0.1, h);
            for (String n : new String[] {"self_attn_layer_norm", "final_layer_norm"}) {
                w.putAround1(q + n + ".weight", h);
                w.put(q + n + ".bias", 0.1, h);
            }
        }
        if (finalNorm) {
            w.putAround1(p + "final_layer_norm.weight", h);
            w.put(p + "final_layer_norm.bias", 0.1, h);
        }
    }

    private static void llama(Weights w, int h, int heads, int kv, int hd, int ffn, int vocab, boolean qkvBias, boolean oBias) {
        w.put("model.embed_tokens.weight", 0.5, vocab, h);
        for (int l = 0; l < 2; l++) {
            String q = "model.layers." + l + ".";
            w.put(q + "self_attn.q_proj.weight", 0.5, heads * hd, h);
            w.put(q + "self_attn.k_proj.weight", 0.5, kv * hd, h);
            w.put(q + "self_attn.v_proj.weight", 0.5, kv * hd, h);
            w.put(q + "self_attn.o_proj.weight", 0.5, h, heads * hd);
            if (qkvBias) {
                w.put(q + "self_attn.q_proj.bias", 0.2, heads * hd);
                w.put(q + "self_attn.k_proj.bias", 0.2, kv * hd);
                w.put(q + "self_attn.v_proj.bias", 0.2, kv * hd);
            }
            w.put(q + "mlp.gate_proj.weight", 0.5, ffn, h);
            w.put(q + "mlp.up_proj.weight", 0.5, ffn, h);
            w.put(q + "mlp.down_proj.weight", 0.5, h, ffn);
            w.putAround1(q + "input_layernorm.weight", h);
            w.putAround1(q + "post_attention_layernorm.weight", h);
        }
        w.putAround1("model.norm.weight", h);
    }

    /** Random float32 tensors viewed through heap memory segments. */
    static final class Weights {
        private final Map<String, TensorView> tensors = new LinkedHashMap<>();
        private final Random random;

        Weights(long seed) { random = new Random(seed); }

        void put(String name, double scale, long... shape) {
            int n = 1;
            for (long d : shape) n *= (int) d;
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) (random.nextGaussian() * scale);
            tensors.put(name, view(name, v, shape));
        }

        void putAround1(String name, int n) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) (1 + 0.2 * random.nextGaussian());
            tensors.put(name, view(name, v, n));
        }

        WeightSource source() {
            Map<String, TensorView> copy = Map.copyOf(tensors);
            return new WeightSource() {
                @Override public Set<String> names() { return copy.keySet(); }
                @Override public TensorView tensor(String name) {
                    TensorView t = copy.get(name);
                    if (t == null) throw new IllegalArgumentException("no tensor " + name + " in the test model");
                    return t;
                }
                @Override public void close() { }
            };
        }
    }

    static TensorView view(String name, float[] values, long... shape) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : values) bytes.putFloat(f);
        return new TensorView(name, Path.of("memory"), DType.F32, shape, MemorySegment.ofArray(bytes.array()));
    }
}
