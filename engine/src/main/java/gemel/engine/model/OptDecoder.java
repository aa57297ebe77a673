package gemel.engine.model;

import gemel.engine.config.HfConfig;
import gemel.engine.io.TensorView;
import gemel.engine.kernel.Activation;
import gemel.engine.kernel.LayerNorm;
import gemel.engine.kernel.Parallel;
import java.util.ArrayList;
import java.util.List;

/**
 * OPTForCausalLM, every size: pre-LN (most) or post-LN with no final norm (opt-350m), optional
 * project_in/project_out when word_embed_proj_dim differs from hidden_size, learned positions read
 * at position + 2, q scaled by head_dim^-0.5 before the product, head tied to the input embedding.
 */
public final class OptDecoder extends DecoderBase {
    private static final int POSITION_OFFSET = 2; // OPT's learned positions reserve the first two rows
    private static final float EPS = 1e-5f;       // nn.LayerNorm's default, which OPT keeps

    private final Linear projectIn, projectOut;   // [hidden, inputWidth], [inputWidth, hidden]; null when equal widths
    private final TensorView positionTable;       // [maxPositions + 2, hidden]
    private final boolean normBefore;
    private final Layer[] layers;
    private final LayerNorm finalNorm;            // null for post-LN models
    private final Activation activation;
    private final Linear lmHead;                  // [vocab, inputWidth]
    private final float scaling;                  // head_dim^-0.5

    private record Layer(LayerNorm attentionNorm, Linear q, Linear k, Linear v, Linear out,
                         LayerNorm feedForwardNorm, Linear fc1, Linear fc2) {}

    private OptDecoder(ModelShape shape, Weights w, TensorView embedTokens, Linear projectIn, Linear projectOut, TensorView positionTable,
                       boolean normBefore, Layer[] layers, LayerNorm finalNorm, Activation activation, Linear lmHead) {
        super(shape, w, embedTokens, 0);
        this.projectIn = projectIn;
        this.projectOut = projectOut;
        this.positionTable = positionTable;
        this.normBefore = normBefore;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.activation = activation;
        this.lmHead = lmHead;
        this.scaling = (float) Math.pow(shape.headDim(), -0.5);
    }

    static OptDecoder load(Weights w) {
        HfConfig c = w.config();
        int hidden = c.integer("hidden_size"), heads = c.integer("num_attention_heads"), n = c.integer("num_hidden_layers");
        int vocab = c.integer("vocab_size"), ffn = c.integer("ffn_dim"), maxPositions = c.integer("max_position_embeddings");
        int inputWidth = c.integer("word_embed_proj_dim", hidden);
        if (hidden % heads != 0) throw new IllegalArgumentException(c.file() + ": hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        boolean normBefore = c.bool("do_layer_norm_before", true);
        boolean bias = c.bool("enable_bias", true), affine = c.bool("layer_norm_elementwise_affine", true);
        // most checkpoints name tensors model.decoder.*; some (the published opt-350m) drop the "model."
        String p = w.has("decoder.embed_tokens.weight") && !w.has("model.decoder.embed_tokens.weight") ? "decoder." : "model.decoder.";
        TensorView embedTokens = w.matrix(p + "embed_tokens.weight", vocab, inputWidth);
        Linear projectIn = null, projectOut = null;
        if (inputWidth != hidden) {
            projectIn = w.linear(p + "project_in", hidden, inputWidth, false);
            projectOut = w.linear(p + "project_out", inputWidth, hidden, false);
        }
        TensorView positionTable = w.matrix(p + "embed_positions.weight", maxPositions + POSITION_OFFSET, hidden);
        Layer[] layers = new Layer[n];
        for (int i = 0; i < n; i++) {
            String l = p + "layers." + i + ".";
            layers[i] = new Layer(
                    w.layerNorm(l + "self_attn_layer_norm", hidden, EPS, affine),
                    w.linear(l + "self_attn.q_proj", hidden, hidden, bias),
                    w.linear(l + "self_attn.k_proj", hidden, hidden, bias),
                    w.linear(l + "self_attn.v_proj", hidden, hidden, bias),
                    w.linear(l + "self_attn.out_proj", hidden, hidden, bias),
                    w.layerNorm(l + "final_layer_norm", hidden, EPS, affine),
                    w.linear(l + "fc1", ffn, hidden, bias),
                    w.linear(l + "fc2", hidden, ffn, bias));
        }
        // HF builds the final norm only for pre-LN models not marked _remove_final_layer_norm
        LayerNorm finalNorm = normBefore && !c.bool("_remove_final_layer_norm", false) ? w.layerNorm(p + "final_layer_norm", hidden, EPS, affine) : null;
        Linear lmHead = new Linear(w.has("lm_head.weight") ? w.matrix("lm_head.weight", vocab, inputWidth) : embedTokens, null);
        Activation activation = Activation.fromHf(c.string("activation_function", "relu"), c.file().toString());
        ModelShape shape = new ModelShape(c.architecture(), vocab, inputWidth, hidden, n, heads, heads, hidden / heads, maxPositions,
                c.integer("bos_token_id", 2), c.integer("eos_token_id", 2), c.integer("pad_token_id", 1));
        return new OptDecoder(shape, w, embedTokens, projectIn, projectOut, positionTable, normBefore, layers, finalNorm, activation, lmHead);
    }

    DecoderParts parts() {
        List<DecoderParts.Block> blocks = new ArrayList<>();
        for (Layer l : layers)
            blocks.add(new DecoderParts.Block(DecoderParts.Norm.of(l.attentionNorm), l.q, l.k, l.v, l.out,
                    DecoderParts.Norm.of(l.feedForwardNorm), l.fc1, null, l.fc2));
        return new DecoderParts(shape(), projectIn, positionTable, POSITION_OFFSET, normBefore, List.copyOf(blocks),
                DecoderParts.Norm.of(finalNorm), projectOut, lmHead, null, activation, 0);
    }

    @Override
    int paddingPosition() { return -1; } // cumsum(mask) * mask - 1 at a pad: row 1 of the table after the offset

    @Override
    float[] embedInputs(float[] embeds, Step step) {
        float[] x = projectIn == null ? embeds.clone() : projectIn.apply(embeds, step.rows());
        int hidden = shape().hiddenSize();
        float[] row = new float[hidden];
        for (int r = 0; r < step.rows(); r++) {
            int index = step.positions()[r] + POSITION_OFFSET;
            if (index < 0) throw new IllegalArgumentException("position " + step.positions()[r] + " is below OPT's smallest, -2");
            positionTable.copyTo((long) index * hidden, row, 0, hidden);
            for (int i = 0; i < hidden; i++) x[r * hidden + i] += row[i];
        }
        return x;
    }

    @Override
    void layer(int index, float[] x, Step step) {
        Layer l = layers[index];
        int rows = step.rows(), hidden = x.length / rows;
        LayerScratch s = step.scratch();
        float[] h = normBefore ? norm(l.attentionNorm, x, rows, s) : x;
        float[] q = s.get(LayerScratch.Q, x.length), k = s.get(LayerScratch.K, x.length), v = s.get(LayerScratch.V, x.length);
        Linear.applyEach(h, rows, new float[][] {q, k, v}, l.q, l.k, l.v);
        Parallel.forRows(rows, (r0, r1) -> {
            for (int i = r0 * hidden; i < r1 * hidden; i++) q[i] *= scaling;
        });
        float[] a = attention(index, q, k, v, 1f, step);
        float[] projected = s.get(LayerScratch.PROJECTED, x.length);
        addInPlace(x, l.out.apply(a, rows, projected), rows);
        if (!normBefore) l.attentionNorm.apply(x, rows, x);
        h = normBefore ? norm(l.feedForwardNorm, x, rows, s) : x;
        float[] f = l.fc1.apply(h, rows, s.get(LayerScratch.INNER, rows * l.fc1.outputs()));
        int ffn = f.length / rows;
        Parallel.forRows(rows, (r0, r1) -> activation.apply(f, r0 * ffn, (r1 - r0) * ffn));
        addInPlace(x, l.fc2.apply(f, rows, projected), rows);
        if (!normBefore) l.feedForwardNorm.apply(x, rows, x);
    }

    @Override
    float[] head(float[] h, int n) {
        if (finalNorm != null) finalNorm.apply(h, n, h);
        float[] y = projectOut == null ? h : projectOut.apply(h, n);
        return lmHead.apply(y, n);
    }

    private static float[] norm(LayerNorm norm, float[] x, int rows, LayerScratch s) {
        float[] out = s.get(LayerScratch.NORMED, x.length);
        norm.apply(x, rows, out);
        return out;
    }
}
