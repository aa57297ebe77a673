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
 * than the caches, with vector loads, as four streams (the four quarters of its share), the way the
 * decode product reads a task's four rows at a time. Read as one stream per core, the same buffer
 * read 4-7 % slower (medians of 60 rounds in turns, three runs), and the decode product outran
 * that read by 4-16 % in the native-product section: it was no bound.
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

    /** Floats [from, to) as four streams, the quarters of the range in whole vectors, each with an accumulator; then the rest. */
    private static double sumRange(MemorySegment data, long from, long to) {
        int lanes = F.length();
        long quarter = (to - from) / 4 / lanes * lanes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (long i = from, end = from + quarter; i < end; i += lanes) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, data, 4 * i, ByteOrder.nativeOrder()));
            a1 = a1.add(FloatVector.fromMemorySegment(F, data, 4 * (i + quarter), ByteOrder.nativeOrder()));
            a2 = a2.add(FloatVector.fromMemorySegment(F, data, 4 * (i + 2 * quarter), ByteOrder.nativeOrder()));
            a3 = a3.add(FloatVector.fromMemorySegment(F, data, 4 * (i + 3 * quarter), ByteOrder.nativeOrder()));
        }
        double s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (long i = from + 4 * quarter; i < to; i++) s += data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        return s;
    }
}
