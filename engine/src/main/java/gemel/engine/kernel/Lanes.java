package gemel.engine.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sum of a vector's lanes (fp32 or fp64) in one fixed order: a pairwise tree (lane i with lane
 * i + L/2, then i + L/4, ...). {@code reduceLanes(ADD)} may add in a different order when compiled than when
 * interpreted, so the same input gave logits one ulp apart early and late in a run; these plain lane
 * operations round the same way in both. {@link #sumScalar} is the twin, the same tree on an array.
 */
public final class Lanes {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorShuffle<Float>[] PARTNERS = partners(F); // [log2 L]: lane i -> i ^ (L/2), i ^ (L/4), ..., i ^ 1
    private static final VectorShuffle<Double>[] DOUBLE_PARTNERS = partners(D);

    private Lanes() {}

    @SuppressWarnings("unchecked")
    private static <E> VectorShuffle<E>[] partners(VectorSpecies<E> species) {
        int steps = Integer.numberOfTrailingZeros(species.length());
        VectorShuffle<E>[] p = new VectorShuffle[steps];
        for (int s = 0; s < steps; s++) {
            int distance = species.length() >> (s + 1);
            p[s] = VectorShuffle.fromOp(species, i -> i ^ distance);
        }
        return p;
    }

    /** Sum of the lanes of v, always added in the same tree. */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> p : PARTNERS) v = v.add(v.rearrange(p));
        return v.lane(0);
    }

    /** Sum of the lanes of v (of {@code DoubleVector.SPECIES_PREFERRED}), always added in the same tree. */
    public static double sum(DoubleVector v) {
        for (VectorShuffle<Double> p : DOUBLE_PARTNERS) v = v.add(v.rearrange(p));
        return v.lane(0);
    }

    /** The twin of {@link #sum(FloatVector)}: the same tree over lanes[0 .. L), which it overwrites. */
    public static float sumScalar(float[] lanes) {
        for (int distance = F.length() / 2; distance >= 1; distance /= 2) {
            for (int i = 0; i < distance; i++) lanes[i] = lanes[i] + lanes[i + distance];
        }
        return lanes[0];
    }

    /** The twin of {@link #sum(DoubleVector)}: the same tree over lanes[0 .. L), which it overwrites. */
    public static double sumScalar(double[] lanes) {
        for (int distance = D.length() / 2; distance >= 1; distance /= 2) {
            for (int i = 0; i < distance; i++) lanes[i] = lanes[i] + lanes[i + distance];
        }
        return lanes[0];
    }
}
