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
    // lane i -> lane i ^ d: constants, one per step, so that the JIT keeps every step in registers
    private static final VectorShuffle<Float> F8 = partner(F, 8), F4 = partner(F, 4), F2 = partner(F, 2), F1 = partner(F, 1);
    private static final VectorShuffle<Double> D4 = partner(D, 4), D2 = partner(D, 2), D1 = partner(D, 1);

    private Lanes() {}

    /** Lane i to lane i ^ distance; the identity when the species has no lanes that far (that step is skipped). */
    private static <E> VectorShuffle<E> partner(VectorSpecies<E> species, int distance) {
        return VectorShuffle.fromOp(species, i -> distance < species.length() ? i ^ distance : i);
    }

    /** Sum of the lanes of v, always added in the same tree. */
    public static float sum(FloatVector v) {
        if (F.length() > 8) v = v.add(v.rearrange(F8));
        if (F.length() > 4) v = v.add(v.rearrange(F4));
        if (F.length() > 2) v = v.add(v.rearrange(F2));
        return v.add(v.rearrange(F1)).lane(0);
    }

    /** Sum of the lanes of v (of {@code DoubleVector.SPECIES_PREFERRED}), always added in the same tree. */
    public static double sum(DoubleVector v) {
        if (D.length() > 4) v = v.add(v.rearrange(D4));
        if (D.length() > 2) v = v.add(v.rearrange(D2));
        return v.add(v.rearrange(D1)).lane(0);
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
