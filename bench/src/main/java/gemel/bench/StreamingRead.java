package gemel.bench;

import gemel.engine.kernel.Parallel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Memory read bandwidth as a decode step sees it: every core sums its share of a buffer far larger
 * than the caches, with vector loads, as a matrix-vector product streams a weight.
 */
public final class StreamingRead {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private StreamingRead() {}

    /** The sum of the floats of {@code data} (native order), split over the cores of the engine's pool (so a shared arena's). */
    public static double sum(MemorySegment data) {
        long floats = data.byteSize() / 4;
        int parts = Parallel.cores();
        double[] partial = new double[parts];
        Parallel.forEach(parts, p -> partial[p] = sumRange(data, floats * p / parts, floats * (p + 1) / parts));
        double total = 0;
        for (double s : partial) total += s;
        return total;
    }

    /** The scalar twin of {@link #sum}, as its oracle. */
    public static double sumScalar(MemorySegment data) {
        double total = 0;
        for (long i = 0, n = data.byteSize() / 4; i < n; i++) total += data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        return total;
    }

    /** Floats [from, to): four independent accumulators keep several loads in flight. */
    private static double sumRange(MemorySegment data, long from, long to) {
        int lanes = F.length();
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        long i = from;
        for (; i + 4L * lanes <= to; i += 4L * lanes) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, data, 4 * i, ByteOrder.nativeOrder()));
            a1 = a1.add(FloatVector.fromMemorySegment(F, data, 4 * (i + lanes), ByteOrder.nativeOrder()));
            a2 = a2.add(FloatVector.fromMemorySegment(F, data, 4 * (i + 2L * lanes), ByteOrder.nativeOrder()));
            a3 = a3.add(FloatVector.fromMemorySegment(F, data, 4 * (i + 3L * lanes), ByteOrder.nativeOrder()));
        }
        double s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) s += data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        return s;
    }
}
