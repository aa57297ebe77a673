package gemel.bench;

import gemel.engine.kernel.Parallel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Memory read bandwidth as a decode step sees it: every core sums its share of a buffer far larger
 * than the caches, with vector loads, as four streams (the four quarters of its share), the way the
 * decode product reads a task's four rows at a time. Read as one stream per core, the same buffer
 * read 4-7 % slower (medians of 60 rounds in turns, three runs), and the decode product outran
 * that read by 4-16 % in the native-product section: it was no bound. The words are added as 32-bit
 * integers, which wrap but never round, so the sum checks the read exactly at any lane count (float
 * lanes of 256 bits rounded a 4 GiB buffer's sum 11 % low).
 */
public final class StreamingRead {
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    private StreamingRead() {}

    /** The sum, modulo 2^32, of the 32-bit words of {@code data} (native order), split over the cores of the engine's pool (so a shared arena's). */
    public static int sum(MemorySegment data) {
        long words = data.byteSize() / 4;
        int parts = Parallel.cores();
        int[] partial = new int[parts];
        Parallel.forEach(parts, p -> partial[p] = sumRange(data, words * p / parts, words * (p + 1) / parts));
        int total = 0;
        for (int s : partial) total += s;
        return total;
    }

    /** The scalar twin of {@link #sum}, as its oracle. */
    public static int sumScalar(MemorySegment data) {
        int total = 0;
        for (long i = 0, n = data.byteSize() / 4; i < n; i++) total += data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
        return total;
    }

    /** Words [from, to) as four streams, the quarters of the range in whole vectors, each with an accumulator; then the rest. */
    private static int sumRange(MemorySegment data, long from, long to) {
        int lanes = I.length();
        long quarter = (to - from) / 4 / lanes * lanes;
        IntVector a0 = IntVector.zero(I), a1 = a0, a2 = a0, a3 = a0;
        for (long i = from, end = from + quarter; i < end; i += lanes) {
            a0 = a0.add(IntVector.fromMemorySegment(I, data, 4 * i, ByteOrder.nativeOrder()));
            a1 = a1.add(IntVector.fromMemorySegment(I, data, 4 * (i + quarter), ByteOrder.nativeOrder()));
            a2 = a2.add(IntVector.fromMemorySegment(I, data, 4 * (i + 2 * quarter), ByteOrder.nativeOrder()));
            a3 = a3.add(IntVector.fromMemorySegment(I, data, 4 * (i + 3 * quarter), ByteOrder.nativeOrder()));
        }
        int s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (long i = from + 4 * quarter; i < to; i++) s += data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
        return s;
    }
}
