package gemel.engine.generate;

import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.KvCache;
import gemel.engine.model.ModelShape;
import java.util.Arrays;

/**
 * A deterministic stand-in for a decoder: its "cache" keeps, per row, one symbol per position seen
 * (a token id read back from the embedding, or a hash of a prompt embedding), and the logits of a
 * position are a function of all symbols so far. Counts the forward calls so tests can see the
 * prompt run once.
 */
final class FakeCausalLM implements CausalLM {
    static final int WIDTH = 4;
    private static final float PROMPT_MARK = -1f; // embeds[0] of a prompt row; token rows hold the id there
    static final long PROMPT_SYMBOL = 1L << 40;   // prompt symbols are at least this; token symbols are the ids

    /** Next-token logits [vocab] after {@code history[0 .. length)} of which the first {@code promptLength} are prompt symbols. */
    interface LogitsRule {
        float[] logits(long[] history, int length, int promptLength);
    }

    private final int vocab;
    private final LogitsRule rule;
    int forwardCalls;
    int promptCalls;    // calls feeding more than one position per row

    FakeCausalLM(int vocab, LogitsRule rule) {
        this.vocab = vocab;
        this.rule = rule;
    }

    /** A prompt of {@code length} rows whose content is drawn from {@code seed}. */
    static float[] prompt(int length, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] p = new float[length * WIDTH];
        for (int i = 0; i < length; i++) {
            p[i * WIDTH] = PROMPT_MARK;
            for (int j = 1; j < WIDTH; j++) p[i * WIDTH + j] = (float) r.nextDouble();
        }
        return p;
    }

    @Override
    public ModelShape shape() { return new ModelShape("Fake", vocab, WIDTH, WIDTH, 1, 1, 1, WIDTH, 1024, 0, 0, 0); }

    @Override
    public void embed(int tokenId, float[] out, int offset) {
        out[offset] = tokenId;
        for (int j = 1; j < WIDTH; j++) out[offset + j] = (float) Math.sin(tokenId * 7.0 + j);
    }

    @Override
    public KvCache newCache(int batch, int capacity) { return new Cache(batch, capacity); }

    @Override
    public float[] forward(DecoderInput input, KvCache kv, int[] logitRows) {
        Cache cache = (Cache) kv;
        if (input.batch() != cache.rows.length) throw new IllegalArgumentException("batch " + input.batch() + " vs cache rows " + cache.rows.length);
        if (cache.length + input.tokens() > cache.capacity) throw new IllegalStateException("cache capacity " + cache.capacity + " exceeded");
        forwardCalls++;
        if (input.tokens() > 1) promptCalls++;
        float[][] all = new float[input.batch() * input.tokens()][];
        for (int b = 0; b < input.batch(); b++)
            for (int t = 0; t < input.tokens(); t++) {
                int at = (b * input.tokens() + t) * WIDTH, pos = cache.length + t;
                float first = input.embeds()[at];
                cache.rows[b][pos] = first == PROMPT_MARK ? PROMPT_SYMBOL | (Arrays.hashCode(Arrays.copyOfRange(input.embeds(), at, at + WIDTH)) & 0xffffffffL) : (long) first;
                int promptLength = 0;
                while (promptLength <= pos && cache.rows[b][promptLength] >= PROMPT_SYMBOL) promptLength++;
                all[b * input.tokens() + t] = rule.logits(cache.rows[b], pos + 1, promptLength);
            }
        cache.length += input.tokens();
        int[] rows = logitRows;
        if (rows == null) {
            rows = new int[all.length];
            for (int i = 0; i < rows.length; i++) rows[i] = i;
        }
        float[] out = new float[rows.length * vocab];
        for (int i = 0; i < rows.length; i++) System.arraycopy(all[rows[i]], 0, out, i * vocab, vocab);
        return out;
    }

    @Override
    public void close() {}

    private static final class Cache implements KvCache {
        long[][] rows; // [batch][capacity] symbols
        int length;
        final int capacity;

        Cache(int batch, int capacity) {
            rows = new long[batch][capacity];
            this.capacity = capacity;
        }

        @Override public int batch() { return rows.length; }
        @Override public int length() { return length; }
        @Override public int capacity() { return capacity; }
        @Override public void truncate(int length) { this.length = length; }

        @Override
        public KvCache fork(int n) {
            if (rows.length != 1) throw new IllegalStateException("fork needs a single-row cache");
            Cache c = new Cache(n, capacity);
            for (int i = 0; i < n; i++) System.arraycopy(rows[0], 0, c.rows[i], 0, length);
            c.length = length;
            return c;
        }

        @Override
        public void reorder(int[] sourceRows) {
            long[][] next = new long[rows.length][];
            for (int i = 0; i < rows.length; i++) next[i] = rows[sourceRows[i]].clone();
            rows = next;
        }
    }
}
