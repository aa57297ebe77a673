package gemel.engine.grad.exact;

import static gemel.engine.grad.exact.GradientCheck.assertMatches;
import static gemel.engine.grad.exact.InputGradientContract.LABELS;
import static gemel.engine.grad.exact.InputGradientContract.MASK;
import static gemel.engine.grad.exact.InputGradientContract.X;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.grad.Batch;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Whole-model loss gradients against finite differences, recompute and padding invariants. */
class ExactGradientsTest {
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
        ExactDecoder decoder = ExactDecoder.load(m.config(), m.weights());
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

    private static DecoderLayer layerOf(ExactDecoder decoder) {
        return decoder.firstLayer();
    }

    /** The oracle as {@link InputGradientContract} runs it. */
    private static InputGradientContract.Implementation exact(ExactGradients g) {
        return (embeds, batch, tokens, mask, labels) -> {
            ExactGradients.Result r = g.compute(embeds, batch, tokens, mask, null, labels);
            return new InputGradientContract.Outcome(r.loss(), r.gradients());
        };
    }

    @Test
    void paddedRowEqualsTheUnpaddedRow() {
        ExactGradients g = ExactGradients.of(TinyModels.optPreNorm().config(), TinyModels.optPreNorm().weights(), false);
        InputGradientContract.assertPaddedRowEqualsTheUnpaddedRow(g.inputWidth(), exact(g), 1e-12);
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

    @Test
    void badInputsAreErrorsThatSaySo() {
        ExactGradients g = ExactGradients.of(TinyModels.optPreNorm().config(), TinyModels.optPreNorm().weights(), false);
        InputGradientContract.assertBadInputsAreRefused(g.inputWidth(), exact(g));
    }
}
