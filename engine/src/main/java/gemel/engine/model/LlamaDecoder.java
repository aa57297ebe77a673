package gemel.engine.model;

import gemel.engine.config.HfConfig;
import gemel.engine.io.TensorView;
import gemel.engine.kernel.Activation;
import gemel.engine.kernel.Parallel;
import gemel.engine.kernel.RmsNorm;
import gemel.engine.kernel.Rope;
import java.util.ArrayList;
import java.util.List;

/**
 * LlamaForCausalLM, MistralForCausalLM and Qwen2ForCausalLM: RMSNorm before attention and MLP,
 * rotate-half RoPE (with optional scaling), grouped key/value heads, a gated MLP
 * (down(act(gate(x)) * up(x))), q/k/v biases for Qwen2 or Llama's attention_bias, tied or untied head.
 */
public final class LlamaDecoder extends DecoderBase {
    private final Layer[] layers;
    private final RmsNorm finalNorm;
    private final Linear lmHead;     // [vocab, hidden]
    private final Rope rope;
    private final Activation activation;
    private final float scale;       // head_dim^-0.5 on the scores
    private final int slidingWindow; // 0: none

    private record Layer(RmsNorm attentionNorm, Linear q, Linear k, Linear v, Linear o,
                         RmsNorm mlpNorm, Linear gate, Linear up, Linear down) {}

    private LlamaDecoder(ModelShape shape, Weights w, TensorView embedTokens, int slidingWindow, Layer[] layers, RmsNorm finalNorm,
                         Linear lmHead, Rope rope, Activation activation) {
        super(shape, w, embedTokens, slidingWindow);
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.rope = rope;
        this.activation = activation;
        this.scale = (float) (1 / Math.sqrt(shape.headDim()));
        this.slidingWindow = slidingWindow;
    }

    static LlamaDecoder load(Weights w) {
        HfConfig c = w.config();
        String arch = c.architecture();
        int hidden = c.integer("hidden_size"), heads = c.integer("num_attention_heads"), n = c.integer("num_hidden_layers");
        int kvHeads = c.integer("num_key_value_heads", heads), vocab = c.integer("vocab_size"), ffn = c.integer("intermediate_size");
        int headDim = c.integer("head_dim", hidden / heads), maxPositions = c.integer("max_position_embeddings");
        if (heads % kvHeads != 0) throw new IllegalArgumentException(c.file() + ": num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        float eps = (float) c.number("rms_norm_eps", 1e-6);
        boolean qwen2 = arch.equals("Qwen2ForCausalLM");
        boolean qkvBias = qwen2 || c.bool("attention_bias", false), oBias = !qwen2 && c.bool("attention_bias", false);
        boolean mlpBias = c.bool("mlp_bias", false);
        int window = slidingWindow(c, qwen2, n);
        TensorView embedTokens = w.matrix("model.embed_tokens.weight", vocab, hidden);
        Layer[] layers = new Layer[n];
        for (int i = 0; i < n; i++) {
            String l = "model.layers." + i + ".";
            layers[i] = new Layer(
                    w.rmsNorm(l + "input_layernorm", hidden, eps),
                    w.linear(l + "self_attn.q_proj", heads * headDim, hidden, qkvBias),
                    w.linear(l + "self_attn.k_proj", kvHeads * headDim, hidden, qkvBias),
                    w.linear(l + "self_attn.v_proj", kvHeads * headDim, hidden, qkvBias),
                    w.linear(l + "self_attn.o_proj", hidden, heads * headDim, oBias),
                    w.rmsNorm(l + "post_attention_layernorm", hidden, eps),
                    w.linear(l + "mlp.gate_proj", ffn, hidden, mlpBias),
                    w.linear(l + "mlp.up_proj", ffn, hidden, mlpBias),
                    w.linear(l + "mlp.down_proj", hidden, ffn, mlpBias));
        }
        boolean tied = c.bool("tie_word_embeddings", false);
        Linear lmHead = new Linear(tied ? embedTokens : w.matrix("lm_head.weight", vocab, hidden), null);
        Activation activation = Activation.fromHf(c.string("hidden_act", "silu"), c.file().toString());
        ModelShape shape = new ModelShape(arch, vocab, hidden, hidden, n, heads, kvHeads, headDim, maxPositions,
                c.integer("bos_token_id", -1), eosTokenId(c), c.integer("pad_token_id", -1));
        return new LlamaDecoder(shape, w, embedTokens, window, layers, w.rmsNorm("model.norm", hidden, eps), lmHead,
                Rope.fromConfig(c, headDim), activation);
    }

    /** eos_token_id may be a list (Llama 3): the first one. */
    private static int eosTokenId(HfConfig c) {
        var node = c.json().get("eos_token_id");
        if (node != null && node.isArray() && !node.isEmpty()) return node.get(0).asInt();
        return c.integer("eos_token_id", -1);
    }

    DecoderParts parts() {
        List<DecoderParts.Block> blocks = new ArrayList<>();
        for (Layer l : layers)
            blocks.add(new DecoderParts.Block(DecoderParts.Norm.of(l.attentionNorm), l.q, l.k, l.v, l.o,
                    DecoderParts.Norm.of(l.mlpNorm), l.gate, l.up, l.down));
        return new DecoderParts(shape(), null, null, 0, true, List.copyOf(blocks), DecoderParts.Norm.of(finalNorm), null,
                lmHead, rope, activation, slidingWindow);
    }

    @Override
    int paddingPosition() { return 1; } // HF generation fills padded positions with 1

    @Override
    float[] embedInputs(float[] embeds, Step step) { return embeds.clone(); }

    @Override
    void layer(int index, float[] x, Step step) {
        Layer l = layers[index];
        int rows = step.rows(), heads = shape().heads(), kvHeads = shape().kvHeads(), headDim = shape().headDim();
        LayerScratch s = step.scratch();
        float[] h = s.get(LayerScratch.NORMED, x.length);
        l.attentionNorm.apply(x, rows, h);
        float[] q = s.get(LayerScratch.Q, rows * l.q.outputs()), k = s.get(LayerScratch.K, rows * l.k.outputs());
        float[] v = s.get(LayerScratch.V, rows * l.v.outputs());
        Linear.applyEach(h, rows, new float[][] {q, k, v}, l.q, l.k, l.v);
        Parallel.forRows(rows, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                rope.apply(q, r * heads * headDim, heads, step.positions()[r]);
                rope.apply(k, r * kvHeads * headDim, kvHeads, step.positions()[r]);
            }
        });
        float[] a = attention(index, q, k, v, scale, step);
        float[] projected = s.get(LayerScratch.PROJECTED, x.length);
        addInPlace(x, l.o.apply(a, rows, projected), rows);
        l.mlpNorm.apply(x, rows, h);
        float[] gate = s.get(LayerScratch.INNER, rows * l.gate.outputs()), up = s.get(LayerScratch.INNER_2, rows * l.up.outputs());
        Linear.applyEach(h, rows, new float[][] {gate, up}, l.gate, l.up);
        int ffn = gate.length / rows;
        Parallel.forRows(rows, (r0, r1) -> {
            activation.apply(gate, r0 * ffn, (r1 - r0) * ffn);
            for (int i = r0 * ffn; i < r1 * ffn; i++) gate[i] *= up[i];
        });
        addInPlace(x, l.down.apply(gate, rows, projected), rows);
    }

    @Override
    float[] head(float[] h, int n) {
        finalNorm.apply(h, n, h);
        return lmHead.apply(h, n);
    }

    /**
     * The window every layer slides (0: none), as Hugging Face derives it: Mistral slides whenever
     * sliding_window is set; Qwen2 only with use_sliding_window, and then only layers from
     * max_window_layers on. A window on some layers only is refused by name.
     */
    private static int slidingWindow(HfConfig c, boolean qwen2, int layers) {
        if (!c.has("sliding_window") || !c.bool("use_sliding_window", !qwen2)) return 0;
        int window = c.integer("sliding_window");
        if (window < 1) throw new IllegalArgumentException(c.file() + ": sliding_window " + window + " is not a positive number of positions");
        if (!qwen2) return window;
        int from = c.integer("max_window_layers", layers);
        if (from >= layers) return 0;
        if (from > 0)
            throw new IllegalArgumentException(c.file() + ": use_sliding_window with max_window_layers " + from + " slides only layers " + from
                    + " to " + (layers - 1) + " of " + layers + "; a window on some layers only is not supported");
        return window;
    }
}
