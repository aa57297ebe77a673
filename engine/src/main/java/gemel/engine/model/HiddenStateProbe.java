package gemel.engine.model;

/**
 * Sees a decoder's hidden states at each layer boundary, for finding the layer where a run departs
 * from a reference. {@code hidden} is [rows, hiddenSize]; it must not be modified.
 */
@FunctionalInterface
public interface HiddenStateProbe {

    /** Called with the state entering layer {@code boundary} (< layers), then leaving the last (= layers). */
    void at(int boundary, float[] hidden, int rows);
}
