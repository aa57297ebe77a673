package gemel.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax over a slice, in place; the maximum is subtracted first so large scores do not overflow.
 * Attention calls it for every query over every visible key, so the exponentials run as vectors
 * ({@link Exponential}: the same bits compiled or interpreted); {@link #inPlaceScalar} is the twin.
 */
public final class Softmax {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Softmax() {}

    /** x[off .. off + n) becomes exp(x - max) / sum; entries at -infinity become 0. */
    public static void inPlace(float[] x, int off, int n) {
        float max = max(x, off, n);
        FloatVector m = FloatVector.broadcast(F, max), acc = FloatVector.zero(F);
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector e = Exponential.expNonPositive(FloatVector.fromArray(F, x, off + i).sub(m)); // x <= max
            e.intoArray(x, off + i);
            acc = acc.add(e);
        }
        double sum = Lanes.sum(acc);
        for (; i < n; i++) sum += x[off + i] = Exponential.expScalar(x[off + i] - max);
        scale(x, off, n, (float) (1 / sum));
    }

    public static void inPlaceScalar(float[] x, int off, int n) {
        float max = max(x, off, n);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += x[off + i] = (float) Math.exp(x[off + i] - max);
        float inv = (float) (1 / sum);
        for (int i = 0; i < n; i++) x[off + i] *= inv;
    }

    /**
     * Four running maxima: a vector max has Java's semantics for -0 and NaN, several instructions each waiting for the last,
     * so with one running maximum a row of 768 took 0.22 us, with four 0.11 (Xeon, alone). The order of maxima does not
     * change the result.
     */
    private static float max(float[] x, int off, int n) {
        int L = F.length(), i = 0;
        FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
        for (; i + 4 * L <= n; i += 4 * L) {
            m0 = m0.max(FloatVector.fromArray(F, x, off + i));
            m1 = m1.max(FloatVector.fromArray(F, x, off + i + L));
            m2 = m2.max(FloatVector.fromArray(F, x, off + i + 2 * L));
            m3 = m3.max(FloatVector.fromArray(F, x, off + i + 3 * L));
        }
        for (; i + L <= n; i += L) m0 = m0.max(FloatVector.fromArray(F, x, off + i));
        float max = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        if (max == Float.NEGATIVE_INFINITY) throw new IllegalArgumentException("softmax over " + n + " entries that are all -infinity");
        return max;
    }

    private static void scale(float[] x, int off, int n, float factor) {
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) FloatVector.fromArray(F, x, off + i).mul(factor).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= factor;
    }
}
