package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ActivationGradientTest {
    private static final int N = 101;

    /** Central difference of the activation in double, from its forward. */
    private static double slope(Activation a, float x) {
        double h = 1e-3;
        return (a.apply((float) (x + h)) - a.apply((float) (x - h))) / (2 * h);
    }

    @Test
    void plainMatchesFiniteDifferences() {
        Random random = new Random(4);
        for (Activation a : new Activation[] {Activation.RELU, Activation.SILU}) {
            float[] pre = TestTensors.gaussian(random, N, 3), dh = TestTensors.gaussian(random, N, 1);
            float[] fast = dh.clone();
            ActivationGradient.plain(a, pre, fast, N);
            for (int i = 0; i < N; i++) {
                if (Math.abs(pre[i]) > 1e-2) assertEquals(dh[i] * slope(a, pre[i]), fast[i], 2e-3, a + " slope at " + pre[i]);
            }
        }
    }

    @Test
    void gatedMatchesFiniteDifferences() {
        Random random = new Random(5);
        float[] gate = TestTensors.gaussian(random, N, 3), up = TestTensors.gaussian(random, N, 1), dh = TestTensors.gaussian(random, N, 1);
        float[] fast = dh.clone(), fastUp = new float[N];
        ActivationGradient.gated(Activation.SILU, gate, up, fast, fastUp, N);
        for (int i = 0; i < N; i++) {
            assertEquals(dh[i] * up[i] * slope(Activation.SILU, gate[i]), fast[i], 2e-3, "dgate at " + gate[i]);
            assertEquals(dh[i] * Activation.SILU.apply(gate[i]), fastUp[i], 1e-5, "dup at " + gate[i]);
        }
    }

    @Test
    void unsupportedActivationIsAnErrorNamingIt() {
        var e = assertThrows(IllegalArgumentException.class, () -> ActivationGradient.plain(Activation.GELU, new float[1], new float[1], 1));
        assertTrue(e.getMessage().contains("GELU"), e.getMessage());
    }
}
