package gemel.engine.grad;

import gemel.engine.grad.exact.TinyModels;
import gemel.engine.kernel.Vectors;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DeterminismProbeTest {
    @Test
    void probe() {
        Random r = new Random(1);
        float[] a = new float[64], b = new float[64];
        for (int i = 0; i < 64; i++) { a[i] = (float) r.nextGaussian(); b[i] = (float) r.nextGaussian(); }
        float first = Vectors.dot(a, 0, b, 0, 64);
        int diff = 0;
        for (int k = 0; k < 200000; k++) if (Vectors.dot(a, 0, b, 0, 64) != first) diff++;
        System.out.println("PROBE dot differs " + diff + " first " + first + " last " + Vectors.dot(a, 0, b, 0, 64));
        TinyModels.Model m = TinyModels.optPreNorm();
        InputGradients g = InputGradients.of(m.config(), m.weights(), false);
        float[] e = new float[12 * 8];
        for (int i = 0; i < e.length; i++) e[i] = (float) r.nextGaussian();
        int[] labels = {-100, -100, 3, 4, 5, 6, -100, -100, 3, 4, 5, 6};
        float[] g0 = g.compute(e, 2, 6, null, null, labels).gradients();
        int bad = 0;
        for (int k = 0; k < 3000; k++) if (!Arrays.equals(g0, g.compute(e, 2, 6, null, null, labels).gradients())) bad++;
        System.out.println("PROBE grads differ " + bad);
    }
}
