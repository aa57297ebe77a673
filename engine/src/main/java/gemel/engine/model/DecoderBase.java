package gemel.engine.model;

import gemel.engine.io.TensorView;
import gemel.engine.io.WeightSource;
import gemel.engine.kernel.Attention;
import gemel.engine.kernel.Parallel;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What every decoder-only model here shares: input checks, positions from the mask, the KV cache,
 * causal attention over it, and logits for the asked rows only. A subclass wires its own blocks:
 * how inputs become hidden states, one layer, and the output head.
 */
abstract sealed class DecoderBase implements CausalLM permits OptDecoder, LlamaDecoder {
    // keys and values that rows sharing a prompt read in turn: about half a core's L2, leaving room for the rest
    private static final int SHARED_HEADS_BYTES = 1 << 20;
    private final ModelShape shape;
    private final WeightSource weights;
    private final TensorView embedTokens;   // [vocab, inputWidth]
    private final Path configFile;
    private final int slidingWindow;        // 0: none

    DecoderBase(ModelShape shape, Weights weights, TensorView embedTokens, int slidingWindow) {
        this.shape = shape;
        this.weights = weights.source();
        this.embedTokens = embedTokens;
        this.configFile = weights.config().file();
        this.slidingWindow = slidingWindow;
    }

    /** The positions of one forward call: rows = batch * tokens, the mask over past + tokens keys; the arrays its layers share. */
    record Step(int batch, int tokens, int past, int[] mask, int[] positions, ArrayKvCache cache, LayerScratch scratch) {
        int rows() { return batch * tokens; }

        int total() { return past + tokens; }
    }

    /** Input embeddings [rows, inputWidth] -> hidden states [rows, hiddenSize]. */
    abstract float[] embedInputs(float[] embeds, Step step);

    /** Runs layer {@code layer} on x [rows, hiddenSize] in place. */
    abstract void layer(int layer, float[] x, Step step);

    /** Final hidden states of n rows [n, hiddenSize] -> logits [n, vocab]. */
    abstract float[] head(float[] h, int n);

    /** The position given to a padded token when positions come from the mask. */
    abstract int paddingPosition();

    @Override
    public ModelShape shape() { return shape; }

    @Override
    public void embed(int tokenId, float[] out, int offset) {
        if (tokenId < 0 || tokenId >= embedTokens.dim(0))
            throw new IllegalArgumentException("token id " + tokenId + " is outside the vocabulary [0, " + embedTokens.dim(0) + ") of " + configFile);
        int width = shape.inputWidth();
        embedTokens.copyTo((long) tokenId * width, out, offset, width);
    }

    @Override
    public KvCache newCache(int batch, int capacity) {
        return new ArrayKvCache(shape.layers(), shape.kvHeads(), shape.headDim(), batch, capacity);
    }

    @Override
    public void close() { weights.close(); }

    @Override
    public float[] forward(DecoderInput input, KvCache cache, int[] logitRows) {
        return forward(input, cache, logitRows, null);
    }

    /** {@link #forward(DecoderInput, KvCache, int[])}, showing {@code probe} (if not null) every layer boundary. */
    public float[] forward(DecoderInput input, KvCache cache, int[] logitRows, HiddenStateProbe probe) {
        if (!(cache instanceof ArrayKvCache kv)) throw new IllegalArgumentException("the cache must come from this model's newCache");
        int batch = input.batch(), tokens = input.tokens();
        if (batch != kv.batch()) throw new IllegalArgumentException("input has " + batch + " rows, the cache " + kv.batch());
        if (tokens < 1) throw new IllegalArgumentException("a forward step needs at least one token, got " + tokens);
        if (input.embeds().length != batch * tokens * shape.inputWidth())
            throw new IllegalArgumentException("embeds hold " + input.embeds().length + " floats, " + batch + " x " + tokens + " x "
                    + shape.inputWidth() + " expected");
        kv.requireRoom(tokens);
        int past = kv.length(), total = past + tokens;
        int[] mask = input.attentionMask();
        if (mask != null && mask.length != batch * total)
            throw new IllegalArgumentException("attention mask holds " + mask.length + " entries, " + batch + " x " + total + " (past + new) expected");
        int[] positions = input.positions() != null ? input.positions() : positionsFromMask(mask, batch, past, tokens);
        if (positions.length != batch * tokens)
            throw new IllegalArgumentException("positions hold " + positions.length + " entries, " + batch + " x " + tokens + " expected");
        for (int p : positions) {
            if (p >= shape.maxPositions())
                throw new IllegalArgumentException("position " + p + " is beyond max_position_embeddings " + shape.maxPositions() + " of "
                        + configFile + ": the sequence is too long for this model");
        }
        int[] rows = logitRows != null ? logitRows : allRows(batch * tokens);
        for (int r : rows) {
            if (r < 0 || r >= batch * tokens) throw new IllegalArgumentException("logit row " + r + " is not in [0, " + batch * tokens + ")");
        }
        Step step = new Step(batch, tokens, past, mask, positions, kv, new LayerScratch());
        float[] x = embedInputs(input.embeds(), step);
        for (int l = 0; l < shape.layers(); l++) {
            if (probe != null) probe.at(l, x, step.rows());
            layer(l, x, step);
        }
        if (probe != null) probe.at(shape.layers(), x, step.rows());
        kv.advance(tokens);
        int hidden = shape.hiddenSize();
        float[] h = new float[rows.length * hidden];
        for (int i = 0; i < rows.length; i++) System.arraycopy(x, rows[i] * hidden, h, i * hidden, hidden);
        return head(h, rows.length);
    }

    /** As HF generation: cumulative count of real positions minus one; padding gets {@link #paddingPosition}. */
    private int[] positionsFromMask(int[] mask, int batch, int past, int tokens) {
        int total = past + tokens;
        int[] positions = new int[batch * tokens];
        for (int b = 0; b < batch; b++) {
            int seen = 0;
            for (int j = 0; j < total; j++) {
                boolean real = mask == null || mask[b * total + j] != 0;
                if (real) seen++;
                if (j >= past) positions[b * tokens + j - past] = real ? seen - 1 : paddingPosition();
            }
        }
        return positions;
    }

    private static int[] allRows(int n) {
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) rows[i] = i;
        return rows;
    }

    /**
     * Stores k, v [rows, kvHeads * headDim] in the cache, then lets q [rows, heads * headDim] attend
     * causally over each row's cached positions (padding masked); returns [rows, heads * headDim], the step's
     * {@link LayerScratch#ATTENDED} array.
     */
    float[] attention(int layer, float[] q, float[] k, float[] v, float scale, Step step) {
        int heads = shape.heads(), headDim = shape.headDim(), kvWidth = shape.kvHeads() * headDim;
        int group = heads / shape.kvHeads(), width = heads * headDim;
        float[] out = step.scratch().get(LayerScratch.ATTENDED, step.rows() * width);
        int total = step.total();
        boolean windowed = slidingWindow > 0 && total > slidingWindow;
        if (step.tokens() < Attention.QUERIES && !windowed) {
            // each task stores the keys and values it then reads: the stores are scattered (a key goes to headDim rows)
            // and miss the caches; made by one core for all heads, they took 0.15-0.2 ms of OPT-125m's 7-10 ms step
            if (group > 1) groupedAttention(layer, q, k, v, scale, step, out);
            else pairedAttention(layer, q, k, v, scale, step, out);
            return out;
        }
        // rows write disjoint positions of the cache, a batch row's consecutive positions at once
        Parallel.forRows(step.rows(), (r0, r1) -> {
            for (int r = r0, end; r < r1; r = end) {
                int b = r / step.tokens();
                end = Math.min(r1, (b + 1) * step.tokens());
                step.cache().putPositions(layer, b, step.past() + r % step.tokens(), end - r, k, r * kvWidth, v, r * kvWidth);
            }
        });
        if (windowed) {
            windowedAttention(layer, q, scale, step, out);
            return out;
        }
        // prompts (four tokens or more a row): head by head, row by row, so that rows that share a prefix's keys and values
        // (KvCache.fork) find a head's part of them still in cache from the row before
        Parallel.forEach(step.batch() * heads, task -> {
            int h = task / step.batch(), b = task % step.batch();
            Attention.Span[] spans = step.cache().spans(layer, b, h / group, total);
            float[] scores = new float[Attention.QUERIES * total];
            int t = 0;
            for (; t + Attention.QUERIES <= step.tokens(); t += Attention.QUERIES) { // a prompt: four consecutive positions share each key load
                int at = (b * step.tokens() + t) * width + h * headDim;
                Attention.attendFour(q, at, width, headDim, scale, spans, step.past() + t + 1, true,
                        step.mask(), b * total, scores, out, at, width);
            }
            for (; t < step.tokens(); t++) {
                int at = (b * step.tokens() + t) * width + h * headDim;
                Attention.attend(q, at, headDim, scale, spans, step.past() + t + 1,
                        step.mask(), b * total, scores, out, at);
            }
        });
        return out;
    }

    /**
     * {@link #attention} of a decode step (or beams, or a few tokens) in a model whose query heads share key/value heads:
     * a task takes one key/value head of one row, and its query heads attend four at a time ({@link Attention#attendFour},
     * each key and value loaded serving four), the rest one by one. Head by head, the group's keys and values were read
     * once per query head, from memory by each core that took one of them: with Llama-3.2-1B's heads (32 in groups of
     * four), attention alone over 512 and 1,536 cached positions ran 1.2-1.3x as fast so. The tasks of one key/value
     * head's rows come one after another, so that beams find the keys and values they share still in cache. The
     * outputs are the same.
     */
    private void groupedAttention(int layer, float[] q, float[] k, float[] v, float scale, Step step, float[] out) {
        int kvHeads = shape.kvHeads(), headDim = shape.headDim(), group = shape.heads() / kvHeads, width = shape.heads() * headDim;
        int total = step.total(), kvWidth = kvHeads * headDim;
        Parallel.forEach(step.batch() * kvHeads, task -> {
            int g = task / step.batch(), b = task % step.batch();
            for (int t = 0, r = b * step.tokens(); t < step.tokens(); t++, r++)
                step.cache().putHead(layer, b, g, step.past() + t, k, r * kvWidth, v, r * kvWidth);
            Attention.Span[] spans = step.cache().spans(layer, b, g, total);
            float[] scores = new float[Attention.QUERIES * (total + Attention.QUERIES)];
            for (int t = 0; t < step.tokens(); t++) {
                int visible = step.past() + t + 1, h = g * group, end = h + group;
                for (; h + Attention.QUERIES <= end; h += Attention.QUERIES) {
                    int at = (b * step.tokens() + t) * width + h * headDim;
                    Attention.attendFour(q, at, headDim, headDim, scale, spans, visible, false, step.mask(), b * total, scores, out, at, headDim);
                }
                for (; h < end; h++) {
                    int at = (b * step.tokens() + t) * width + h * headDim;
                    Attention.attend(q, at, headDim, scale, spans, visible, step.mask(), b * total, scores, out, at);
                }
            }
        });
    }

    /**
     * {@link #attention} of a decode step (or beams, or a few tokens) in a model whose query heads each have their own
     * key/value head: a task takes two heads, whose keys and values are read side by side ({@link Attention#attendTwo}; an
     * odd last head attends alone), for every row in turn, so that beams find the prompt's keys and values they share
     * still in L2 from the row before. The outputs are the same as head by head. With several rows, a task takes one head
     * when two heads' keys and values would pass {@value #SHARED_HEADS_BYTES} bytes: OPT-6.7B's two 128-wide heads over a
     * 1,544-position prompt hold 3.2 MB, more than a core's L2, and each beam read them again from memory (5-row steps of
     * OPT-1.3b fp16 after 1,536 tokens took 0.94-0.95 of the time with one head a task; BENCHMARKS.md).
     */
    private void pairedAttention(int layer, float[] q, float[] k, float[] v, float scale, Step step, float[] out) {
        int heads = shape.heads(), headDim = shape.headDim(), width = heads * headDim, total = step.total();
        int perTask = step.batch() > 1 && 2L * 2 * total * headDim * Float.BYTES > SHARED_HEADS_BYTES ? 1 : 2;
        Parallel.forEach((heads + perTask - 1) / perTask, task -> {
            int h = perTask * task;
            boolean two = perTask == 2 && h + 1 < heads;
            float[] scores = new float[2 * total];
            for (int b = 0; b < step.batch(); b++) {
                for (int t = 0, r = b * step.tokens(); t < step.tokens(); t++, r++) {
                    for (int g = h; g < (two ? h + 2 : h + 1); g++) step.cache().putHead(layer, b, g, step.past() + t, k, r * width, v, r * width);
                }
                Attention.Span[] a = step.cache().spans(layer, b, h, total);
                Attention.Span[] second = two ? step.cache().spans(layer, b, h + 1, total) : null;
                for (int t = 0; t < step.tokens(); t++) {
                    int visible = step.past() + t + 1, at = (b * step.tokens() + t) * width + h * headDim;
                    if (second == null) Attention.attend(q, at, headDim, scale, a, visible, step.mask(), b * total, scores, out, at);
                    else Attention.attendTwo(q, at, at + headDim, headDim, scale, a, second, visible, step.mask(), b * total, scores, out, at, at + headDim);
                }
            }
        });
    }

    /**
     * {@link #attention} when some keys have slid out of a query's window: as Hugging Face's Mistral
     * masks them, query position i (an index into the cache, padding included) sees key j only when
     * i - j < sliding_window. Each query attends alone with its own key mask, the padding mask with the
     * keys before its window cleared; the cache keeps every position. Only sequences longer than the
     * window come here (4,096 positions for Mistral-7B-v0.1), and their prompts give up the shared key
     * loads of {@link Attention#attendFour}.
     */
    private void windowedAttention(int layer, float[] q, float scale, Step step, float[] out) {
        int heads = shape.heads(), headDim = shape.headDim(), group = heads / shape.kvHeads(), width = heads * headDim, total = step.total();
        Parallel.forEach(step.batch() * heads, task -> {
            int b = task / heads, h = task % heads;
            Attention.Span[] spans = step.cache().spans(layer, b, h / group, total);
            float[] scores = new float[total];
            int[] visible = new int[total];
            for (int t = 0; t < step.tokens(); t++) {
                int i = step.past() + t, first = Math.max(0, i - slidingWindow + 1);
                Arrays.fill(visible, 0, first, 0);
                for (int j = first; j <= i; j++) visible[j] = step.mask() == null ? 1 : step.mask()[b * total + j];
                int at = (b * step.tokens() + t) * width + h * headDim;
                Attention.attend(q, at, headDim, scale, spans, i + 1, visible, 0, scores, out, at);
            }
        });
    }

    /** x += y over rows of equal width, in parallel for a prompt's many rows. */
    static void addInPlace(float[] x, float[] y, int rows) {
        int width = x.length / rows;
        Parallel.forRows(rows, (r0, r1) -> {
            for (int i = r0 * width; i < r1 * width; i++) x[i] += y[i];
        });
    }
}
