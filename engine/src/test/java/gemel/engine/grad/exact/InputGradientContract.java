package gemel.engine.grad.exact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.grad.Targets;
import java.util.Arrays;
import java.util.Random;

/**
 * What every implementation of d loss / d inputs_embeds must do, whatever its precision: the fp32
 * path and the double oracle run the same cases on the tiny OPT of {@link TinyModels}.
 */
public final class InputGradientContract {
    public static final int X = Targets.IGNORE;
    /** Two rows of 6 tokens; row 1 right-padded after 4. */
    public static final int[] MASK = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    /** Targets on the last real tokens of each row of {@link #MASK}. */
    public static final int[] LABELS = {X, X, X, 3, 5, 2, X, X, 4, 1, X, X};

    private InputGradientContract() {}

    /** The loss and its gradient [rows, width] of one implementation, in double whatever it computes in. */
    public record Outcome(double loss, double[] gradients) {}

    /** One implementation: embeds [batch * tokens, width], mask [batch, tokens] or null, labels [batch, tokens]. */
    public interface Implementation {
        Outcome compute(double[] embeds, int batch, int tokens, int[] mask, int[] labels);
    }

    /** A padded row gives its unpadded run's loss and gradients (within {@code tolerance}); a row without targets gets none. */
    public static void assertPaddedRowEqualsTheUnpaddedRow(int width, Implementation g, double tolerance) {
        double[] batch = GradientCheck.random(new Random(3), 2 * 6 * width, 1);
        int[] onlyRow1 = {X, X, X, X, X, X, X, X, 4, 1, X, X};
        Outcome padded = g.compute(batch, 2, 6, MASK, onlyRow1);
        Outcome single = g.compute(Arrays.copyOfRange(batch, 6 * width, 10 * width), 1, 4, null, new int[] {X, X, 4, 1});
        assertEquals(single.loss(), padded.loss(), tolerance);
        for (int i = 0; i < 4 * width; i++) assertEquals(single.gradients()[i], padded.gradients()[6 * width + i], tolerance);
        for (int i = 0; i < 6 * width; i++) assertEquals(0.0, padded.gradients()[i], "row 0 has no targets and no influence on row 1");
    }

    /** No targets, a wrong number of embeddings, a position past max_position_embeddings (16) and a label outside the vocabulary are errors that say so. */
    public static void assertBadInputsAreRefused(int width, Implementation g) {
        double[] embeds = new double[6 * width];
        var none = assertThrows(IllegalArgumentException.class, () -> g.compute(embeds, 1, 6, null, new int[] {X, X, X, X, X, X}));
        assertTrue(none.getMessage().contains("no target tokens"), none.getMessage());
        var shape = assertThrows(IllegalArgumentException.class, () -> g.compute(new double[5], 1, 6, null, new int[] {X, X, X, X, X, 1}));
        assertTrue(shape.getMessage().contains("inputs_embeds"), shape.getMessage());
        int[] lastOf17 = new int[17];
        Arrays.fill(lastOf17, X);
        lastOf17[16] = 1;
        var tooLong = assertThrows(IllegalArgumentException.class, () -> g.compute(new double[17 * width], 1, 17, null, lastOf17));
        assertTrue(tooLong.getMessage().contains("max_position_embeddings 16"), tooLong.getMessage());
        var label = assertThrows(IllegalArgumentException.class, () -> g.compute(embeds, 1, 6, null, new int[] {X, X, X, X, X, 99}));
        assertTrue(label.getMessage().contains("99"), label.getMessage());
    }
}
