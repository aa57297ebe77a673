package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ActivationGradientTest {
    private static final int N = 101; // not a multiple of any vector length: the scalar tail runs too

    /** Central difference of the activation in double, from its forward. */
    private static double slope(Activation a, float x) {
        double h = 1e-3;
        return (a.apply((float) (x + h)) - a.apply((float) (x - h))) / (2 * h);
    }

    @Test
    void plainMatchesScalarTwinAndFiniteDifferences() {
        Random random = new Random(4);
        for (Activation a : new Activation[] {Activation.RELU, Activation.SILU}) {
            float[] pre = TestTensors.gaussian(random, N, 3), dh = TestTensors.gaussian(random, N, 1);
            float[] fast = dh.clone(), slow = dh.clone();
            ActivationGradient.plain(a, pre, fast, N);
            ActivationGradient.plainScalar(a, pre, slow, N);
            for (int i = 0; i < N; i++) {
                assertEquals(slow[i], fast[i], 1e-6f * (1 + Math.abs(slow[i])), a + " twin at " + i);
                if (Math.abs(pre[i]) > 1e-2) assertEquals(dh[i] * slope(a, pre[i]), fast[i], 2e-3, a + " slope at " + pre[i]);
            }
        }
    }

    @Test
    void gatedMatchesScalarTwinAndFiniteDifferences() {
        Random random = new Random(5);
        float[] gate = TestTensors.gaussian(random, N, 3), up = TestTensors.gaussian(random, N, 1), dh = TestTensors.gaussian(random, N, 1);
        float[] fast = dh.clone(), slow = dh.clone(), fastUp = new float[N], slowUp = new float[N];
        ActivationGradient.gated(Activation.SILU, gate, up, fast, fastUp, N);
        ActivationGradient.gatedScalar(Activation.SILU, gate, up, slow, slowUp, 0, N);
        for (int i = 0; i < N; i++) {
            assertEquals(slow[i], fast[i], 1e-6f * (1 + Math.abs(slow[i])), "dgate twin at " + i);
            assertEquals(slowUp[i], fastUp[i], 1e-6f * (1 + Math.abs(slowUp[i])), "dup twin at " + i);
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
