package gemel.engine.grad.exact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.ToDoubleFunction;

/** Central finite differences in double precision against an analytic gradient. */
public final class GradientCheck {
    private GradientCheck() {
    }

    /** Asserts {@code analytic[i] ~ (f(x + h e_i) - f(x - h e_i)) / 2h} for every i, relative to the largest gradient. */
    public static void assertMatches(String what, double[] x, double[] analytic, ToDoubleFunction<double[]> f) {
        assertEquals(x.length, analytic.length, what + ": gradient length");
        double h = 1e-5, scale = 0, worst = 0;
        for (double g : analytic) scale = Math.max(scale, Math.abs(g));
        assertTrue(scale > 1e-6, what + ": the gradient is (almost) zero everywhere, the check would prove nothing");
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double up = f.applyAsDouble(x);
            x[i] = keep - h;
            double down = f.applyAsDouble(x);
            x[i] = keep;
            double numeric = (up - down) / (2 * h);
            worst = Math.max(worst, Math.abs(numeric - analytic[i]));
            assertEquals(numeric, analytic[i], 1e-7 * Math.max(1, scale) + 1e-6 * Math.abs(numeric),
                    what + ": d/dx[" + i + "] analytic " + analytic[i] + " vs finite difference " + numeric);
        }
    }

    public static double[] random(Random r, int n, double scale) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextGaussian() * scale;
        return a;
    }

    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
