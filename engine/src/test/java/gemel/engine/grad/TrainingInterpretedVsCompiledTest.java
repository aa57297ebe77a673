package gemel.engine.grad;

import gemel.engine.grad.exact.TinyModels;
import gemel.engine.model.InterpretedRun;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A training pass gives bit-identical loss and gradients interpreted or compiled, so that a resumed
 * run (whose first steps run interpreted) repeats an uninterrupted one bit for bit.
 */
class TrainingInterpretedVsCompiledTest {
    private static final int WARM_UP_CALLS = 100;
    private static final int BATCH = 9, TOKENS = 16; // 144 rows: the forward takes MatMul's panel path; softmax rows of up to 16 keys

    private static List<String> gradientBits() {
        List<String> lines = new ArrayList<>();
        List<Supplier<TinyModels.Model>> models = List.of(TinyModels::optPreNorm, TinyModels::opt350mStyle, TinyModels::llamaGqa, TinyModels::mistral);
        for (Supplier<TinyModels.Model> model : models) {
            TinyModels.Model m = model.get();
            InputGradients g = InputGradients.of(m.config(), m.weights(), false);
            Random random = new Random(7);
            float[] embeds = new float[BATCH * TOKENS * g.inputWidth()];
            for (int i = 0; i < embeds.length; i++) embeds[i] = (float) random.nextGaussian();
            int[] mask = new int[BATCH * TOKENS], labels = new int[BATCH * TOKENS];
            for (int r = 0; r < mask.length; r++) {
                mask[r] = r / TOKENS % 3 == 2 && r % TOKENS >= 11 ? 0 : 1; // every third row right-padded after 11
                labels[r] = mask[r] != 0 && r % TOKENS >= 8 ? 1 + r % (g.vocabSize() - 1) : Targets.IGNORE;
            }
            InputGradients.Result result = g.compute(embeds, BATCH, TOKENS, mask, null, labels);
            StringBuilder line = new StringBuilder(m.config().architecture() + "/" + g.inputWidth());
            line.append(' ').append(Long.toHexString(Double.doubleToRawLongBits(result.loss())));
            for (float v : result.gradients()) line.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(v)));
            lines.add(line.toString());
        }
        return lines;
    }

    /** Run in a -Xint JVM by the test: prints {@link #gradientBits}. */
    public static void main(String[] args) {
        gradientBits().forEach(System.out::println);
    }

    @Test
    void interpretedAndCompiledTrainingPassesGiveTheSameBits() throws IOException, InterruptedException {
        InterpretedRun.assertSameBits(TrainingInterpretedVsCompiledTest.class, TrainingInterpretedVsCompiledTest::gradientBits, WARM_UP_CALLS);
    }
}
