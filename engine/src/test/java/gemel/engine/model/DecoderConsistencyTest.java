package gemel.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.tensor.DType;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Cached decoding, forks, reorders and left padding all give what a full recompute gives. */
class DecoderConsistencyTest {
    private static final float TOLERANCE = 1e-4f;

    static Stream<Supplier<CausalLM>> models() {
        return Stream.of(
                () -> TinyModels.opt(true, TinyModels.HIDDEN, DType.F32),
                () -> TinyModels.opt(false, 16, DType.F16),
                () -> TinyModels.llama("LlamaForCausalLM", DType.BF16),
                () -> TinyModels.llama("Qwen2ForCausalLM", DType.F32),
                // groups of six query heads per key/value head: a decode step's heads attend four together, then two alone
                () -> TinyModels.llama("LlamaForCausalLM", DType.F32, 12, 2));
    }

    static float[] embed(CausalLM m, int... ids) {
        int w = m.shape().inputWidth();
        float[] e = new float[ids.length * w];
        for (int i = 0; i < ids.length; i++) m.embed(ids[i], e, i * w);
        return e;
    }

    /** Logits of every position of one unpadded sequence, run in one step. */
    static float[] full(CausalLM m, int... ids) {
        return m.forward(new DecoderInput(embed(m, ids), 1, ids.length, null, null), m.newCache(1, ids.length), null);
    }

    static float[] row(float[] logits, int row, int vocab) { return Arrays.copyOfRange(logits, row * vocab, (row + 1) * vocab); }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        float diff = 0;
        for (int i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
        assertTrue(diff <= TOLERANCE, what + ": max abs difference " + diff);
    }

    static int[] randomIds(Random random, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = 3 + random.nextInt(TinyModels.VOCAB - 3);
        return ids;
    }

    @ParameterizedTest
    @MethodSource("models")
    void prefillThenOneTokenAtATimeEqualsFullRecompute(Supplier<CausalLM> model) {
        try (CausalLM m = model.get()) {
            int vocab = m.shape().vocabSize();
            int[] ids = randomIds(new Random(1), 12);
            float[] expected = full(m, ids);
            KvCache cache = m.newCache(1, 12);
            float[] prefill = m.forward(new DecoderInput(embed(m, Arrays.copyOf(ids, 8)), 1, 8, null, null), cache, new int[] {7, 3});
            assertClose(row(expected, 7, vocab), row(prefill, 0, vocab), m.shape().architecture() + " prefill row 7");
            assertClose(row(expected, 3, vocab), row(prefill, 1, vocab), m.shape().architecture() + " prefill row 3");
            for (int t = 8; t < 12; t++) {
                float[] step = m.forward(new DecoderInput(embed(m, ids[t]), 1, 1, null, null), cache, null);
                assertClose(row(expected, t, vocab), step, m.shape().architecture() + " cached step " + t);
            }
            assertEquals(12, cache.length());
            cache.truncate(9);
            float[] again = m.forward(new DecoderInput(embed(m, ids[9]), 1, 1, null, null), cache, null);
            assertClose(row(expected, 9, vocab), again, m.shape().architecture() + " after truncation");
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void forkedRowsAfterReorderEqualFullRecompute(Supplier<CausalLM> model) {
        try (CausalLM m = model.get()) {
            int vocab = m.shape().vocabSize();
            int[] prompt = randomIds(new Random(2), 6);
            KvCache one = m.newCache(1, 10);
            m.forward(new DecoderInput(embed(m, prompt), 1, prompt.length, null, null), one, new int[0]);
            KvCache beams = one.fork(3);
            assertThrows(IllegalStateException.class, () -> one.truncate(2), "the forked-from cache is read-only");
            int[] first = {7, 8, 9}, second = {10, 11, 12};
            m.forward(new DecoderInput(embed(m, first), 3, 1, null, null), beams, null);
            beams.reorder(new int[] {2, 0, 2});
            float[] logits = m.forward(new DecoderInput(embed(m, second), 3, 1, null, null), beams, null);
            int[] sources = {2, 0, 2};
            for (int r = 0; r < 3; r++) {
                int[] seq = Arrays.copyOf(prompt, prompt.length + 2);
                seq[prompt.length] = first[sources[r]];
                seq[prompt.length + 1] = second[r];
                assertClose(row(full(m, seq), seq.length - 1, vocab), row(logits, r, vocab), m.shape().architecture() + " beam " + r);
            }
        }
    }

    /**
     * Beams over a prompt whose keys and values are too large to share an attention task two heads at a time (two heads of
     * 128 over 520 positions: over 1 MB), so each task takes one head for every row.
     */
    @Test
    void forkedRowsOverALongPromptWithWideHeadsEqualFullRecompute() {
        try (CausalLM m = TinyModels.wideHeadsOpt(2, 128, 540)) {
            int vocab = m.shape().vocabSize();
            int[] prompt = randomIds(new Random(6), 520);
            KvCache one = m.newCache(1, prompt.length + 1);
            m.forward(new DecoderInput(embed(m, prompt), 1, prompt.length, null, null), one, new int[0]);
            int[] next = {5, 6, 7};
            float[] logits = m.forward(new DecoderInput(embed(m, next), 3, 1, null, null), one.fork(3), null);
            for (int r = 0; r < 3; r++) {
                int[] seq = Arrays.copyOf(prompt, prompt.length + 1);
                seq[prompt.length] = next[r];
                assertClose(row(full(m, seq), seq.length - 1, vocab), row(logits, r, vocab), "beam " + r);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void aForkOfAForkReadsBothSharedPrefixes(Supplier<CausalLM> model) {
        try (CausalLM m = model.get()) {
            int vocab = m.shape().vocabSize();
            int[] ids = randomIds(new Random(4), 9);
            float[] expected = full(m, ids);
            KvCache root = m.newCache(1, 9);
            m.forward(new DecoderInput(embed(m, Arrays.copyOf(ids, 4)), 1, 4, null, null), root, new int[0]);
            KvCache middle = root.fork(1);
            m.forward(new DecoderInput(embed(m, ids[4], ids[5]), 1, 2, null, null), middle, new int[0]);
            KvCache leaves = middle.fork(2);
            float[] logits = m.forward(new DecoderInput(embed(m, ids[6], ids[6]), 2, 1, null, null), leaves, null);
            for (int r = 0; r < 2; r++) assertClose(row(expected, 6, vocab), row(logits, r, vocab), m.shape().architecture() + " leaf " + r);
            logits = m.forward(new DecoderInput(embed(m, ids[7], ids[7]), 2, 1, null, null), leaves, null);
            assertClose(row(expected, 7, vocab), row(logits, 1, vocab), m.shape().architecture() + " leaf after two steps");
            var e = assertThrows(IllegalArgumentException.class, () -> leaves.truncate(5));
            assertTrue(e.getMessage().contains("6 shared"), e.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void concurrentCallsOnDistinctCachesEqualSequentialOnes(Supplier<CausalLM> model) throws Exception {
        try (CausalLM m = model.get()) {
            Random random = new Random(5);
            int[][] sequences = {randomIds(random, 11), randomIds(random, 7), randomIds(random, 13), randomIds(random, 5)};
            float[][] sequential = new float[sequences.length][];
            for (int i = 0; i < sequences.length; i++) sequential[i] = full(m, sequences[i]);
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(sequences.length)) {
                var futures = Arrays.stream(sequences).map(ids -> pool.submit(() -> full(m, ids))).toList();
                for (int i = 0; i < sequences.length; i++) assertClose(sequential[i], futures.get(i).get(), "concurrent run " + i);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void leftPaddedRowsEqualTheirUnpaddedRuns(Supplier<CausalLM> model) {
        try (CausalLM m = model.get()) {
            int vocab = m.shape().vocabSize(), w = m.shape().inputWidth();
            Random random = new Random(3);
            int[] a = randomIds(random, 5), b = randomIds(random, 8);
            int pad = Math.max(0, m.shape().padTokenId());
            int[] ids = new int[16];
            Arrays.fill(ids, 0, 3, pad);
            System.arraycopy(a, 0, ids, 3, 5);
            System.arraycopy(b, 0, ids, 8, 8);
            int[] mask = new int[16];
            Arrays.fill(mask, 1);
            Arrays.fill(mask, 0, 3, 0);
            KvCache cache = m.newCache(2, 9);
            float[] logits = m.forward(new DecoderInput(embed(m, ids), 2, 8, mask, null), cache, null);
            float[] fa = full(m, a), fb = full(m, b);
            for (int t = 0; t < 5; t++) assertClose(row(fa, t, vocab), row(logits, 3 + t, vocab), "padded row, token " + t);
            for (int t = 0; t < 8; t++) assertClose(row(fb, t, vocab), row(logits, 8 + t, vocab), "unpadded row, token " + t);
            // one more token for each row, the mask growing by a real position
            int[] next = {5, 6};
            int[] mask2 = new int[18];
            Arrays.fill(mask2, 1);
            Arrays.fill(mask2, 0, 3, 0);
            float[] step = m.forward(new DecoderInput(embed(m, next), 2, 1, mask2, null), cache, null);
            int[] a2 = Arrays.copyOf(a, 6), b2 = Arrays.copyOf(b, 9);
            a2[5] = 5;
            b2[8] = 6;
            assertClose(row(full(m, a2), 5, vocab), row(step, 0, vocab), "padded row, decode step");
            assertClose(row(full(m, b2), 8, vocab), row(step, 1, vocab), "unpadded row, decode step");
            assertEquals(w * 2, embed(m, 1, 2).length);
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void tooLongSequencesAndFullCachesAreErrorsSayingSo(Supplier<CausalLM> model) {
        try (CausalLM m = model.get()) {
            int max = m.shape().maxPositions();
            int[] ids = new int[max + 1];
            Arrays.fill(ids, 5);
            var e = assertThrows(IllegalArgumentException.class, () -> full(m, ids));
            assertTrue(e.getMessage().contains("max_position_embeddings"), e.getMessage());
            var full = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(new DecoderInput(embed(m, 5, 6, 7), 1, 3, null, null), m.newCache(1, 2), null));
            assertTrue(full.getMessage().contains("do not fit"), full.getMessage());
            KvCache cache = m.newCache(1, 4);
            var badRow = assertThrows(IllegalArgumentException.class, () -> m.forward(new DecoderInput(embed(m, 5, 6), 1, 2, null, null), cache, new int[] {2}));
            assertTrue(badRow.getMessage().contains("logit row 2"), badRow.getMessage());
            assertEquals(0, cache.length(), "a refused step leaves the cache as it was");
            var badId = assertThrows(IllegalArgumentException.class, () -> m.embed(m.shape().vocabSize(), new float[m.shape().inputWidth()], 0));
            assertTrue(badId.getMessage().contains("vocabulary"), badId.getMessage());
        }
    }

}
