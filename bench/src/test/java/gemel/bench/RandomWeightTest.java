package gemel.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RandomWeightTest {

    /** Every dtype: the shape asked for, at the offset past a cache line asked for, values in [-0.05, 0.05] and not all alike. */
    @Test
    void weightsHaveTheirShapePlaceAndScale() {
        try (Arena arena = Arena.ofConfined()) {
            for (DType dtype : DType.values()) {
                for (int offset : new int[] {0, 16}) {
                    TensorView w = RandomWeight.of(arena, dtype, 3, 40, offset, new SplittableRandom(1));
                    assertEquals(3, w.dim(0));
                    assertEquals(40, w.dim(1));
                    assertEquals(offset, w.data().address() % 64, dtype + " offset " + offset);
                    assertEquals(120L * dtype.bytes(), w.data().byteSize());
                    float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
                    for (long i = 0; i < 120; i++) {
                        min = Math.min(min, w.get(i));
                        max = Math.max(max, w.get(i));
                    }
                    assertTrue(min >= -0.05f && max <= 0.05f && max - min > 0.05f, dtype + ": values from " + min + " to " + max);
                }
            }
        }
    }
}
