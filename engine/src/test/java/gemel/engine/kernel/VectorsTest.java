package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class VectorsTest {

    @Test
    void dotAndAxpyMatchScalarTwins() {
        Random random = new Random(3);
        for (int trial = 0; trial < 200; trial++) {
            int n = random.nextInt(100), ao = random.nextInt(5), bo = random.nextInt(5);
            float[] a = TestTensors.gaussian(random, n + ao, 1), b = TestTensors.gaussian(random, n + bo, 1);
            assertEquals(Vectors.dotScalar(a, ao, b, bo, n), Vectors.dot(a, ao, b, bo, n), 1e-5 * Math.sqrt(n + 1), "dot of " + n);
            float[] y1 = b.clone(), y2 = b.clone();
            float alpha = (float) random.nextGaussian();
            Vectors.axpy(alpha, a, ao, y1, bo, n);
            Vectors.axpyScalar(alpha, a, ao, y2, bo, n);
            for (int i = 0; i < y1.length; i++) assertEquals(y2[i], y1[i], 1e-6, "axpy of " + n + " at " + i);
        }
    }
}
