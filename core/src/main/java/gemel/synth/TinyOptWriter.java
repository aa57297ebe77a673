package gemel.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.io.AtomicFile;
import gemel.engine.io.SafetensorsWriter;
import gemel.engine.tensor.DType;
import gemel.train.SplitMix64;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a small OPT model with RANDOM weights in the Hugging Face layout ({@code config.json} +
 * {@code model.safetensors}, the names and keys of {@code OPTForCausalLM}). It knows no language:
 * it exists so the whole pipeline (prompt, mapper training, constrained decoding) can run in seconds
 * without a download. Linear weights are drawn with standard deviation {@code 1/sqrt(fan_in)} so that
 * signals neither vanish nor explode through the random layers.
 */
public final class TinyOptWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Small enough that the tied head does not start out confidently repeating the input token. */
    private static final double EMBEDDING_STD = 0.3;

    /** The model's sizes. */
    public record Shape(int vocab, int hidden, int layers, int heads, int ffn, int maxPositions) {
        public static Shape demo(int vocab) { return new Shape(vocab, 64, 2, 4, 128, 1024); }
    }

    private TinyOptWriter() {
    }

    public static void write(Shape s, long seed, Path dir) throws IOException {
        Files.createDirectories(dir);
        SplitMix64 random = new SplitMix64(seed);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        String p = "model.decoder.";
        w.add(p + "embed_tokens.weight", DType.F32, new long[] {s.vocab(), s.hidden()}, normal(random, s.vocab() * s.hidden(), EMBEDDING_STD));
        w.add(p + "embed_positions.weight", DType.F32, new long[] {s.maxPositions() + 2, s.hidden()}, normal(random, (s.maxPositions() + 2) * s.hidden(), 0.1));
        for (int l = 0; l < s.layers(); l++) {
            String q = p + "layers." + l + ".";
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) linear(w, q + "self_attn." + proj, s.hidden(), s.hidden(), random);
            linear(w, q + "fc1", s.ffn(), s.hidden(), random);
            linear(w, q + "fc2", s.hidden(), s.ffn(), random);
            norm(w, q + "self_attn_layer_norm", s.hidden());
            norm(w, q + "final_layer_norm", s.hidden());
        }
        norm(w, p + "final_layer_norm", s.hidden());
        w.write(dir.resolve("model.safetensors"));

        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("OPTForCausalLM");
        c.put("model_type", "opt").put("vocab_size", s.vocab()).put("hidden_size", s.hidden()).put("num_hidden_layers", s.layers())
                .put("num_attention_heads", s.heads()).put("ffn_dim", s.ffn()).put("max_position_embeddings", s.maxPositions())
                .put("word_embed_proj_dim", s.hidden()).put("do_layer_norm_before", true).put("activation_function", "relu")
                .put("enable_bias", true).put("layer_norm_elementwise_affine", true).put("dropout", 0.0).put("attention_dropout", 0.0)
                .put("bos_token_id", 2).put("eos_token_id", 2).put("pad_token_id", 1).put("torch_dtype", "float32")
                .put("tie_word_embeddings", true).put("_comment", "random weights written by gemel demo: this model knows no language");
        AtomicFile.writeStream(dir.resolve("config.json"), out -> out.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(c)));
    }

    private static void linear(SafetensorsWriter w, String name, int out, int in, SplitMix64 random) {
        w.add(name + ".weight", DType.F32, new long[] {out, in}, normal(random, out * in, 1 / Math.sqrt(in)));
        w.add(name + ".bias", DType.F32, new long[] {out}, new float[out]);
    }

    private static void norm(SafetensorsWriter w, String name, int width) {
        float[] ones = new float[width];
        java.util.Arrays.fill(ones, 1f);
        w.add(name + ".weight", DType.F32, new long[] {width}, ones);
        w.add(name + ".bias", DType.F32, new long[] {width}, new float[width]);
    }

    private static float[] normal(SplitMix64 random, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (std * random.nextGaussian());
        return a;
    }
}
