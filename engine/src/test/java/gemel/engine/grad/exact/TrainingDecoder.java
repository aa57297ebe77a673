package gemel.engine.grad.exact;

import gemel.engine.config.HfConfig;
import gemel.engine.grad.Batch;
import gemel.engine.io.TensorView;
import gemel.engine.io.WeightSource;
import java.util.ArrayList;
import java.util.List;

/**
 * A decoder (OPT or Llama family) run in double precision for training: the forward saves what
 * the backward needs, the backward gives d loss / d inputs_embeds. With {@code recompute} only each
 * layer's input is kept and the layer's forward is re-run just before its backward, so the memory
 * held is one layer's activations plus one [rows, hidden] array per layer.
 */
final class TrainingDecoder {
    static final int IGNORE = -100;

    private final Dense projectIn;          // [hidden, inputWidth] or null
    private final TensorView positionTable; // OPT learned positions [maxPositions + 2, hidden], or null
    private final List<DecoderLayer> layers;
    private final Normalization finalNorm;  // or null (OPT-350m)
    private final Dense projectOut;         // [inputWidth, hidden] or null
    private final TensorView head;          // [vocab, inputWidth]
    private final int maxPositions;         // max_position_embeddings: longer inputs are refused, as the decoders do
    final int inputWidth, hidden, vocab;

    /** What one pass returns: mean loss over {@code targets} label tokens and d loss / d embeds [rows, inputWidth] (null without backward). */
    record Pass(double loss, int targets, double[] dEmbeds) {
    }

    private TrainingDecoder(Dense projectIn, TensorView positionTable, List<DecoderLayer> layers, Normalization finalNorm,
                            Dense projectOut, TensorView head, int inputWidth, int hidden, int maxPositions) {
        this.projectIn = projectIn;
        this.positionTable = positionTable;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.projectOut = projectOut;
        this.head = head.requireShape(head.dim(0), inputWidth);
        this.inputWidth = inputWidth;
        this.hidden = hidden;
        this.vocab = head.dim(0);
        this.maxPositions = maxPositions;
    }

    static TrainingDecoder load(HfConfig config, WeightSource weights) {
        String architecture = config.architecture();
        return switch (architecture) {
            case "OPTForCausalLM" -> opt(config, weights);
            case "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM" -> llama(config, weights);
            default -> throw new IllegalArgumentException(config.file() + ": architecture " + architecture
                    + " has no gradients in gemel (supported: OPTForCausalLM, LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)");
        };
    }

    private static TrainingDecoder opt(HfConfig c, WeightSource w) {
        String p = w.contains("model.decoder.embed_tokens.weight") ? "model.decoder." : "decoder.";
        int hidden = c.integer("hidden_size"), heads = c.integer("num_attention_heads"), layers = c.integer("num_hidden_layers");
        int ffn = c.integer("ffn_dim"), vocab = c.integer("vocab_size"), maxPositions = c.integer("max_position_embeddings");
        int inputWidth = c.integer("word_embed_proj_dim", hidden);
        boolean preNorm = c.bool("do_layer_norm_before", true), bias = c.bool("enable_bias", true);
        boolean affine = c.bool("layer_norm_elementwise_affine", true);
        String act = c.string("activation_function", "relu");
        if (!act.equals("relu")) throw new IllegalArgumentException(c.file() + ": OPT activation_function \"" + act + "\" has no gradients in gemel (only relu)");
        if (hidden % heads != 0) throw new IllegalArgumentException(c.file() + ": hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        int headDim = hidden / heads;
        List<DecoderLayer> list = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            String q = p + "layers." + l + ".";
            AttentionBlock attention = new AttentionBlock(
                    dense(w, q + "self_attn.q_proj", hidden, hidden, bias), dense(w, q + "self_attn.k_proj", hidden, hidden, bias),
                    dense(w, q + "self_attn.v_proj", hidden, hidden, bias), dense(w, q + "self_attn.out_proj", hidden, hidden, bias),
                    heads, heads, headDim, 1 / Math.sqrt(headDim), null, Integer.MAX_VALUE);
            FeedForwardBlock mlp = FeedForwardBlock.relu(dense(w, q + "fc1", ffn, hidden, bias), dense(w, q + "fc2", hidden, ffn, bias));
            list.add(new DecoderLayer(layerNorm(w, q + "self_attn_layer_norm", hidden, affine), attention,
                    layerNorm(w, q + "final_layer_norm", hidden, affine), mlp, preNorm, hidden));
        }
        Normalization finalNorm = preNorm && !c.bool("_remove_final_layer_norm", false) ? layerNorm(w, p + "final_layer_norm", hidden, affine) : null;
        Dense projectIn = inputWidth != hidden ? dense(w, p + "project_in", hidden, inputWidth, false) : null;
        Dense projectOut = inputWidth != hidden ? dense(w, p + "project_out", inputWidth, hidden, false) : null;
        TensorView positions = w.tensor(p + "embed_positions.weight").requireShape(maxPositions + 2, hidden);
        TensorView head = w.contains("lm_head.weight") ? w.tensor("lm_head.weight") : w.tensor(p + "embed_tokens.weight");
        head.requireShape(vocab, inputWidth);
        return new TrainingDecoder(projectIn, positions, list, finalNorm, projectOut, head, inputWidth, hidden, maxPositions);
    }

    private static TrainingDecoder llama(HfConfig c, WeightSource w) {
        int hidden = c.integer("hidden_size"), heads = c.integer("num_attention_heads"), layers = c.integer("num_hidden_layers");
        int kvHeads = c.integer("num_key_value_heads", heads), ffn = c.integer("intermediate_size"), vocab = c.integer("vocab_size");
        int headDim = c.integer("head_dim", hidden / heads);
        double eps = c.number("rms_norm_eps", 1e-6);
        String act = c.string("hidden_act", "silu");
        if (!act.equals("silu")) throw new IllegalArgumentException(c.file() + ": hidden_act \"" + act + "\" has no gradients in gemel (only silu)");
        boolean qkvBias = c.modelType().equals("qwen2") || c.bool("attention_bias", false);
        boolean oBias = !c.modelType().equals("qwen2") && c.bool("attention_bias", false);
        int window = slidingWindow(c);
        Rotary rotary = Rotary.fromConfig(c, headDim);
        List<DecoderLayer> list = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            String q = "model.layers." + l + ".";
            AttentionBlock attention = new AttentionBlock(
                    dense(w, q + "self_attn.q_proj", heads * headDim, hidden, qkvBias), dense(w, q + "self_attn.k_proj", kvHeads * headDim, hidden, qkvBias),
                    dense(w, q + "self_attn.v_proj", kvHeads * headDim, hidden, qkvBias), dense(w, q + "self_attn.o_proj", hidden, heads * headDim, oBias),
                    heads, kvHeads, headDim, 1 / Math.sqrt(headDim), rotary, window);
            FeedForwardBlock mlp = FeedForwardBlock.swiGlu(dense(w, q + "mlp.gate_proj", ffn, hidden, false),
                    dense(w, q + "mlp.up_proj", ffn, hidden, false), dense(w, q + "mlp.down_proj", hidden, ffn, false));
            list.add(new DecoderLayer(new RmsNormBlock(w.tensor(q + "input_layernorm.weight"), hidden, eps), attention,
                    new RmsNormBlock(w.tensor(q + "post_attention_layernorm.weight"), hidden, eps), mlp, true, hidden));
        }
        boolean tied = c.bool("tie_word_embeddings", false);
        TensorView head;
        if (w.contains("lm_head.weight")) head = w.tensor("lm_head.weight");
        else if (tied) head = w.tensor("model.embed_tokens.weight");
        else throw new IllegalArgumentException(c.file() + ": no lm_head.weight and tie_word_embeddings is false");
        head.requireShape(vocab, hidden);
        return new TrainingDecoder(null, null, list, new RmsNormBlock(w.tensor("model.norm.weight"), hidden, eps), null, head, hidden, hidden,
                c.integer("max_position_embeddings"));
    }

    private static int slidingWindow(HfConfig c) {
        boolean used = switch (c.modelType()) {
            case "mistral" -> true;
            case "qwen2" -> c.bool("use_sliding_window", false);
            default -> false;
        };
        return used && c.has("sliding_window") ? c.integer("sliding_window") : Integer.MAX_VALUE;
    }

    private static Dense dense(WeightSource w, String name, int out, int in, boolean bias) {
        return new Dense(w.tensor(name + ".weight").requireShape(out, in), bias ? w.tensor(name + ".bias") : null);
    }

    private static Normalization layerNorm(WeightSource w, String name, int width, boolean affine) {
        return affine ? new LayerNormBlock(w.tensor(name + ".weight"), w.tensor(name + ".bias"), width, 1e-5)
                : new LayerNormBlock(null, null, width, 1e-5);
    }

    /**
     * Loss (and with {@code backward} its gradient to the embeddings) of {@code embeds} [rows, inputWidth]
     * whose labels [rows] are -100 except on target tokens; position t is scored by the logits of t - 1.
     */
    Pass run(double[] embeds, Batch batch, int[] labels, boolean backward, boolean recompute) {
        int rows = batch.rows(), T = batch.tokens();
        int n = 0;
        for (int b = 0; b < batch.batch(); b++) for (int t = 0; t + 1 < T; t++) if (labels[b * T + t + 1] != IGNORE) n++;
        if (n == 0) throw new IllegalArgumentException("no target tokens: every label is " + IGNORE);
        int[] sources = new int[n], targets = new int[n];
        n = 0;
        for (int b = 0; b < batch.batch(); b++)
            for (int t = 0; t + 1 < T; t++)
                if (labels[b * T + t + 1] != IGNORE) {
                    sources[n] = b * T + t;
                    targets[n++] = labels[b * T + t + 1];
                }

        double[] x = input(embeds, batch);
        double[][] layerInputs = new double[layers.size()][];
        DecoderLayer.Saved[] saved = new DecoderLayer.Saved[layers.size()];
        for (int l = 0; l < layers.size(); l++) {
            DecoderLayer.Saved s = layers.get(l).forward(x, batch);
            if (backward && recompute) layerInputs[l] = x;
            else if (backward) saved[l] = s;
            x = s.output();
        }
        double[] picked = gather(x, sources, hidden);
        Normalization.Saved finalSaved = finalNorm == null ? null : finalNorm.forward(picked, n);
        double[] h = finalSaved == null ? picked : finalSaved.y();
        double[] out = projectOut == null ? h : projectOut.forward(h, n);
        CrossEntropy.Result ce = CrossEntropy.of(out, targets, head);
        if (!backward) return new Pass(ce.loss(), n, null);

        double[] dh = projectOut == null ? ce.dHidden() : projectOut.backward(ce.dHidden(), n);
        double[] dPicked = finalSaved == null ? dh : finalNorm.backward(finalSaved, dh, n);
        double[] dx = new double[rows * hidden];
        for (int i = 0; i < n; i++) System.arraycopy(dPicked, i * hidden, dx, sources[i] * hidden, hidden);
        for (int l = layers.size() - 1; l >= 0; l--) {
            DecoderLayer.Saved s = recompute ? layers.get(l).forward(layerInputs[l], batch) : saved[l];
            saved[l] = null;
            dx = layers.get(l).backward(s, dx, batch);
        }
        return new Pass(ce.loss(), n, projectIn == null ? dx : projectIn.backward(dx, rows));
    }

    /** Final-layer logits [rows, vocab] of every row (for checks against other implementations). */
    double[] logits(double[] embeds, Batch batch) {
        int rows = batch.rows();
        double[] x = input(embeds, batch);
        for (DecoderLayer layer : layers) x = layer.forward(x, batch).output();
        double[] h = finalNorm == null ? x : finalNorm.forward(x, rows).y();
        double[] out = projectOut == null ? h : projectOut.forward(h, rows);
        double[] byVocab = CrossEntropy.logits(out, rows, head); // [vocab, rows]
        double[] logits = new double[rows * vocab];
        for (int c = 0; c < vocab; c++) for (int r = 0; r < rows; r++) logits[r * vocab + c] = byVocab[c * rows + r];
        return logits;
    }

    /**
     * Doubles the activations of one pass hold at the peak: every layer's saved tensors, or with
     * recompute one [rows, hidden] input per layer plus one layer's saved tensors.
     */
    long activationDoubles(Batch batch, boolean recompute) {
        long perLayer = layers.isEmpty() ? 0 : layers.getFirst().savedDoubles(batch);
        return recompute ? layers.size() * (long) batch.rows() * hidden + perLayer : layers.size() * perLayer;
    }

    /** The first block (tests inspect what it saves). */
    DecoderLayer firstLayer() { return layers.getFirst(); }

    private double[] input(double[] embeds, Batch batch) {
        int rows = batch.rows();
        if (embeds.length != rows * inputWidth)
            throw new IllegalArgumentException("inputs_embeds hold " + embeds.length + " values, expected " + rows + " rows x " + inputWidth);
        for (int r = 0; r < rows; r++)
            if (batch.mask()[r] != 0 && batch.positions()[r] >= maxPositions)
                throw new IllegalArgumentException("position " + batch.positions()[r] + " is beyond the model's max_position_embeddings " + maxPositions);
        double[] x = projectIn == null ? embeds.clone() : projectIn.forward(embeds, rows);
        if (positionTable != null) {
            float[] row = new float[hidden];
            for (int r = 0; r < rows; r++) {
                int index = batch.mask()[r] != 0 ? batch.positions()[r] + 2 : 1; // OPT: offset 2, padding at 1
                positionTable.copyTo((long) index * hidden, row, 0, hidden);
                for (int i = 0; i < hidden; i++) x[r * hidden + i] += row[i];
            }
        }
        return x;
    }

    private static double[] gather(double[] x, int[] rows, int width) {
        double[] out = new double[rows.length * width];
        for (int i = 0; i < rows.length; i++) System.arraycopy(x, rows[i] * width, out, i * width, width);
        return out;
    }
}
