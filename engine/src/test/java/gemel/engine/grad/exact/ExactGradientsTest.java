package gemel.engine.grad.exact;

import static gemel.engine.grad.exact.GradientCheck.assertMatches;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.grad.Batch;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Whole-model loss gradients against finite differences, recompute and padding invariants. */
class ExactGradientsTest {
    private static final int X = ExactGradients.IGNORE_INDEX;

    /** Two rows of 6 tokens; row 1 right-padded after 4; targets on the last real tokens of each row. */
    private static final int[] MASK = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    private static final int[] LABELS = {X, X, X, 3, 5, 2, X, X, 4, 1, X, X};

    private static void checkModel(String what, TinyModels.Model m) {
        ExactGradients g = ExactGradients.of(m.config(), m.weights(), false);
        double[] embeds = GradientCheck.random(new Random(5), 2 * 6 * g.inputWidth(), 1);
        ExactGradients.Result result = g.compute(embeds, 2, 6, MASK, null, LABELS);
        assertEquals(5, result.targets());
        assertMatches(what, embeds, result.gradients(), e -> g.loss(e, 2, 6, MASK, null, LABELS));
        for (int i = 10 * g.inputWidth(); i < 12 * g.inputWidth(); i++)
            assertEquals(0.0, result.gradients()[i], what + ": padding gets no gradient");
    }

    @Test
    void optPreNorm() { checkModel("OPT pre-LN", TinyModels.optPreNorm()); }

    @Test
    void opt350mStyle() { checkModel("OPT-350m style", TinyModels.opt350mStyle()); }

    @Test
    void llamaGroupedQueryAttention() { checkModel("Llama GQA + llama3 rope", TinyModels.llamaGqa()); }

    @Test
    void qwen2Biases() { checkModel("Qwen2", TinyModels.qwen2()); }

    @Test
    void mistralSlidingWindow() { checkModel("Mistral", TinyModels.mistral()); }

    @Test
    void recomputeGivesTheSameNumbersWithLessMemory() {
        TinyModels.Model m = TinyModels.llamaGqa();
        ExactGradients kept = ExactGradients.of(m.config(), m.weights(), false), recomputed = kept.withRecompute(true);
        double[] embeds = GradientCheck.random(new Random(9), 2 * 6 * kept.inputWidth(), 1);
        ExactGradients.Result a = kept.compute(embeds, 2, 6, MASK, null, LABELS), b = recomputed.compute(embeds, 2, 6, MASK, null, LABELS);
        assertEquals(a.loss(), b.loss());
        assertArrayEquals(a.gradients(), b.gradients());
        assertTrue(kept.activationBytes(1, 64, true) < kept.activationBytes(1, 64, false));
    }

    @Test
    void memoryAccountingCountsWhatALayerReallyKeeps() {
        TinyModels.Model m = TinyModels.llamaGqa();
        TrainingDecoder decoder = TrainingDecoder.load(m.config(), m.weights());
        int[] mask = new int[12];
        Arrays.fill(mask, 1);
        Batch batch = new Batch(2, 6, mask, Batch.positionsFromMask(mask, 2, 6));
        ExactGradients g = ExactGradients.of(m.config(), m.weights(), false);
        double[] x = GradientCheck.random(new Random(1), 12 * 16, 1);
        IdentityHashMap<double[], Boolean> arrays = new IdentityHashMap<>();
        DecoderLayer.Saved saved = layerOf(decoder).forward(x, batch);
        for (double[] a : new double[][] {saved.n1().x(), saved.n1().y(), saved.n2().x(), saved.n2().y(), saved.output(),
                saved.attention().q(), saved.attention().k(), saved.attention().v(), saved.attention().probs(), saved.attention().output(),
                saved.mlp().pre(), saved.mlp().up(), saved.mlp().output()}) arrays.put(a, true);
        long held = arrays.keySet().stream().mapToLong(a -> a.length).sum();
        assertEquals(held, layerOf(decoder).savedDoubles(batch));
        assertEquals(2 * held * Double.BYTES, g.activationBytes(2, 6, false));
        assertEquals((2L * 12 * 16 + held) * Double.BYTES, g.activationBytes(2, 6, true));
    }

    private static DecoderLayer layerOf(TrainingDecoder decoder) {
        return decoder.firstLayer();
    }

    @Test
    void paddedRowEqualsTheUnpaddedRow() {
        TinyModels.Model m = TinyModels.optPreNorm();
        ExactGradients g = ExactGradients.of(m.config(), m.weights(), false);
        int w = g.inputWidth();
        double[] batch = GradientCheck.random(new Random(3), 2 * 6 * w, 1);
        int[] onlyRow1 = {X, X, X, X, X, X, X, X, 4, 1, X, X};
        ExactGradients.Result padded = g.compute(batch, 2, 6, MASK, null, onlyRow1);
        double[] alone = Arrays.copyOfRange(batch, 6 * w, 10 * w);
        ExactGradients.Result single = g.compute(alone, 1, 4, null, null, new int[] {X, X, 4, 1});
        assertEquals(single.loss(), padded.loss(), 1e-12);
        for (int i = 0; i < 4 * w; i++) assertEquals(single.gradients()[i], padded.gradients()[6 * w + i], 1e-12);
        for (int i = 0; i < 6 * w; i++) assertEquals(0.0, padded.gradients()[i], "row 0 has no targets and no influence on row 1");
    }

    @Test
    void lossIsTheMeanCrossEntropyOfTheShiftedLogits() {
        TinyModels.Model m = TinyModels.qwen2();
        ExactGradients g = ExactGradients.of(m.config(), m.weights(), false);
        double[] embeds = GradientCheck.random(new Random(4), 2 * 6 * g.inputWidth(), 1);
        double[] logits = g.logits(embeds, 2, 6, MASK, null);
        int vocab = g.vocabSize();
        double sum = 0;
        int n = 0;
        for (int r = 0; r < 12; r++) {
            if (r % 6 == 5 || LABELS[r + 1] == X) continue;
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int c = 0; c < vocab; c++) max = Math.max(max, logits[r * vocab + c]);
            for (int c = 0; c < vocab; c++) z += Math.exp(logits[r * vocab + c] - max);
            sum += max + Math.log(z) - logits[r * vocab + LABELS[r + 1]];
            n++;
        }
        assertEquals(sum / n, g.compute(embeds, 2, 6, MASK, null, LABELS).loss(), 1e-12);
    }

    private static int[] labelsEndingIn(int tokens, int label) {
        int[] labels = new int[tokens];
        Arrays.fill(labels, X);
        labels[tokens - 1] = label;
        return labels;
    }

    @Test
    void badInputsAreErrorsThatSaySo() {
        TinyModels.Model m = TinyModels.optPreNorm();
        ExactGradients g = ExactGradients.of(m.config(), m.weights(), false);
        double[] embeds = new double[6 * g.inputWidth()];
        var none = assertThrows(IllegalArgumentException.class, () -> g.compute(embeds, 1, 6, null, null, new int[] {X, X, X, X, X, X}));
        assertTrue(none.getMessage().contains("no target tokens"), none.getMessage());
        var shape = assertThrows(IllegalArgumentException.class, () -> g.compute(new double[5], 1, 6, null, null, new int[] {X, X, X, X, X, 1}));
        assertTrue(shape.getMessage().contains("inputs_embeds"), shape.getMessage());
        var tooLong = assertThrows(IllegalArgumentException.class, () -> g.compute(new double[17 * g.inputWidth()], 1, 17, null, null, labelsEndingIn(17, 1)));
        assertTrue(tooLong.getMessage().contains("max_position_embeddings 16"), tooLong.getMessage());
        var label = assertThrows(IllegalArgumentException.class, () -> g.compute(embeds, 1, 6, null, null, new int[] {X, X, X, X, X, 99}));
        assertTrue(label.getMessage().contains("99"), label.getMessage());
    }
}
