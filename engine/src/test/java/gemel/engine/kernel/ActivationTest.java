package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ActivationTest {

    @Test
    void erfMatchesTabulatedValues() {
        // Abramowitz & Stegun, table 7.1
        double[][] table = {{0, 0}, {0.1, 0.1124629160}, {0.5, 0.5204998778}, {1, 0.8427007929}, {1.5, 0.9661051465},
                {2, 0.9953222650}, {3, 0.9999779095}, {-0.5, -0.5204998778}};
        for (double[] row : table) assertEquals(row[1], Erf.erf(row[0]), 2e-7, "erf(" + row[0] + ")");
    }

    @Test
    void activationsByDefinition() {
        assertEquals(0, Activation.RELU.apply(-3f));
        assertEquals(2.5f, Activation.RELU.apply(2.5f));
        assertEquals(1 / (1 + Math.exp(-1)), Activation.SILU.apply(1f), 1e-7);
        assertEquals(-2 / (1 + Math.exp(2)), Activation.SILU.apply(-2f), 1e-7);
        // x * Phi(x), Phi(1) = 0.8413447461, Phi(-0.5) = 0.3085375387
        assertEquals(0.8413447461, Activation.GELU.apply(1f), 1e-7);
        assertEquals(-0.5 * 0.3085375387, Activation.GELU.apply(-0.5f), 1e-7);
        assertEquals(2 / (1 + Math.exp(-3.404)), Activation.QUICK_GELU.apply(2f), 1e-6);
        assertEquals(0.8411919906, Activation.GELU_TANH.apply(1f), 1e-7);
        float[] x = {-1, 0, 2};
        Activation.RELU.apply(x, 0, 3);
        assertEquals(0, x[0]);
        assertEquals(2, x[2]);
    }

    @Test
    void vectorPathsMatchScalarTwins() {
        java.util.Random random = new java.util.Random(7);
        for (Activation a : Activation.values()) {
            for (int n : new int[] {0, 1, 15, 16, 17, 100}) {
                float[] x = TestTensors.gaussian(random, n + 3, 4);
                x[Math.min(n + 2, 2)] = -90; // far into exp's tails
                float[] y = x.clone();
                a.apply(x, 2, n);
                a.applyScalar(y, 2, n);
                for (int i = 0; i < x.length; i++) assertEquals(y[i], x[i], 1e-6 * Math.max(1, Math.abs(y[i])), a + " n " + n + " at " + i);
            }
        }
    }

    @Test
    void hfNames() {
        assertEquals(Activation.SILU, Activation.fromHf("silu", "cfg"));
        assertEquals(Activation.QUICK_GELU, Activation.fromHf("quick_gelu", "cfg"));
        var e = assertThrows(IllegalArgumentException.class, () -> Activation.fromHf("mish", "x/config.json"));
        assertTrue(e.getMessage().contains("mish") && e.getMessage().contains("x/config.json"), e.getMessage());
    }
}
