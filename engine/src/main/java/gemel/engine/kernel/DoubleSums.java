package gemel.engine.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sums over a row of floats in double precision, as the norms take their moments: the floats widened to doubles in
 * vectors, four accumulators, their lanes added in {@link Lanes}'s fixed order. One double added at a time waits for
 * the add before it: LayerNorm took about 3 % of OPT-125m's 512-token prompts so, a nanosecond and a half per value.
 */
final class DoubleSums {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> H = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2)); // D's lane count
    private static final int STEP = D.length();

    private DoubleSums() {}

    /** The sum of x[off .. off + n). */
    static double sum(float[] x, int off, int n) {
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (int end = n - 4 * STEP; i <= end; i += 4 * STEP) {
            a0 = a0.add(widen(x, off + i));
            a1 = a1.add(widen(x, off + i + STEP));
            a2 = a2.add(widen(x, off + i + 2 * STEP));
            a3 = a3.add(widen(x, off + i + 3 * STEP));
        }
        double sum = Lanes.sum(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) sum += x[off + i];
        return sum;
    }

    /** The sum of (x[i] - center)^2 over x[off .. off + n): with center 0, the sum of squares. */
    static double squares(float[] x, int off, int n, double center) {
        DoubleVector c = DoubleVector.broadcast(D, center), a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (int end = n - 4 * STEP; i <= end; i += 4 * STEP) {
            DoubleVector d0 = widen(x, off + i).sub(c), d1 = widen(x, off + i + STEP).sub(c);
            DoubleVector d2 = widen(x, off + i + 2 * STEP).sub(c), d3 = widen(x, off + i + 3 * STEP).sub(c);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
            a2 = d2.fma(d2, a2);
            a3 = d3.fma(d3, a3);
        }
        double sum = Lanes.sum(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) {
            double d = x[off + i] - center;
            sum += d * d;
        }
        return sum;
    }

    private static DoubleVector widen(float[] x, int at) {
        return (DoubleVector) FloatVector.fromArray(H, x, at).convertShape(VectorOperators.F2D, D, 0);
    }
}
