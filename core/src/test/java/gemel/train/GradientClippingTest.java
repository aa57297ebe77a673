package gemel.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class GradientClippingTest {

    @Test
    void scalesTheGlobalNormDownToTheLimit() {
        float[][] g = {{3f, 0f}, {4f}}; // global norm 5 over both tensors
        double before = GradientClipping.clip(g, 1.0);
        assertEquals(5.0, before, 1e-12);
        double after = Math.sqrt(g[0][0] * g[0][0] + g[0][1] * g[0][1] + g[1][0] * g[1][0]);
        assertEquals(1.0, after, 1e-6);
        assertEquals(0.6, g[0][0], 1e-6);
        assertEquals(0.8, g[1][0], 1e-6);
    }

    @Test
    void leavesSmallGradientsAlone() {
        float[][] g = {{0.3f, -0.4f}};
        assertEquals(0.5, GradientClipping.clip(g, 1.0), 1e-7);
        assertEquals(0.3f, g[0][0]);
        assertEquals(-0.4f, g[0][1]);
    }
}
