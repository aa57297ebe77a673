package gemel.engine.grad.exact;

import static org.junit.jupiter.api.Assertions.assertEquals;

import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.Decoders;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The double-precision training forward and the engine's float32 inference decoders are written
 * separately; on the same weights their logits must agree at every real position, padding included.
 */
class ForwardAgreementTest {
    private static final int[] MASK = {1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1}; // row 0 right-padded, row 1 full

    private static void agree(String what, TinyModels.Model m) {
        ExactGradients g = ExactGradients.of(m.config(), m.weights(), false);
        int width = g.inputWidth(), vocab = g.vocabSize();
        double[] embeds = GradientCheck.random(new Random(2), 2 * 6 * width, 1);
        float[] floats = new float[embeds.length];
        for (int i = 0; i < floats.length; i++) floats[i] = (float) embeds[i];
        double[] ours = g.logits(embeds, 2, 6, MASK, null);
        try (CausalLM lm = Decoders.load(m.config(), m.weights())) {
            float[] theirs = lm.forward(new DecoderInput(floats, 2, 6, MASK, null), lm.newCache(2, 6), null);
            double worst = 0;
            for (int r = 0; r < 12; r++) {
                if (MASK[r] == 0) continue;
                for (int c = 0; c < vocab; c++) worst = Math.max(worst, Math.abs(ours[r * vocab + c] - theirs[r * vocab + c]));
            }
            assertEquals(0, worst, 1e-4, what + ": largest logit difference " + worst);
        }
    }

    @Test
    void optPreNorm() { agree("OPT pre-LN", TinyModels.optPreNorm()); }

    @Test
    void opt350mStyle() { agree("OPT-350m style", TinyModels.opt350mStyle()); }

    @Test
    void llamaGqa() { agree("Llama GQA", TinyModels.llamaGqa()); }

    @Test
    void qwen2() { agree("Qwen2", TinyModels.qwen2()); }
}
