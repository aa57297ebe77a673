package gemel.engine.grad.exact;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The blocked, vectorised products against plain triple loops, on sizes that cross every block and tile boundary. */
class DenseMathTest {

    @Test
    void wideOutput() { check(150, 37, 300); }

    @Test
    void wideInput() { check(70, 300, 41); }

    private static void check(int rows, int in, int out) {
        Random r = new Random(8);
        double[] x = GradientCheck.random(r, rows * in, 1), w = GradientCheck.random(r, out * in, 1), b = GradientCheck.random(r, out, 1);
        double[] dy = GradientCheck.random(r, rows * out, 1), dx = GradientCheck.random(r, rows * in, 1);
        double[] expectedDx = dx.clone();
        double[] y = DenseMath.forward(x, rows, in, w, out, b);
        DenseMath.backward(dy, rows, out, w, in, dx);
        for (int i = 0; i < rows; i++)
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int k = 0; k < in; k++) s += x[i * in + k] * w[o * in + k];
                assertEquals(s, y[i * out + o], 1e-12, "y[" + i + ", " + o + "]");
            }
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < in; k++) {
                double s = expectedDx[i * in + k];
                for (int o = 0; o < out; o++) s += dy[i * out + o] * w[o * in + k];
                assertEquals(s, dx[i * in + k], 1e-11, "dx[" + i + ", " + k + "]");
            }
    }
}
