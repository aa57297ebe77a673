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

    private static final long ROW_FLOATS = 8192; // 32 KiB: an 8192-wide fp32 weight row

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

    /**
     * Floats [from, to) in blocks of four 8 KiB rows read side by side, each with its own accumulator,
     * the way a decode step's product reads a weight four rows at a time: one stream per core measured
     * less, and so did four streams far apart.
     */
    private static double sumRange(MemorySegment data, long from, long to) {
        int lanes = F.length();
        long row = ROW_FLOATS, block = 4 * ROW_FLOATS;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        long b = from;
        for (; b + block <= to; b += block) {
            for (long i = 0; i < row; i += lanes) {
                a0 = a0.add(FloatVector.fromMemorySegment(F, data, 4 * (b + i), ByteOrder.nativeOrder()));
                a1 = a1.add(FloatVector.fromMemorySegment(F, data, 4 * (b + row + i), ByteOrder.nativeOrder()));
                a2 = a2.add(FloatVector.fromMemorySegment(F, data, 4 * (b + 2 * row + i), ByteOrder.nativeOrder()));
                a3 = a3.add(FloatVector.fromMemorySegment(F, data, 4 * (b + 3 * row + i), ByteOrder.nativeOrder()));
            }
        }
        double s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (long i = b; i < to; i++) s += data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        return s;
    }
}
