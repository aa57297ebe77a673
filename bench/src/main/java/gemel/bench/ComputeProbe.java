package gemel.bench;

import gemel.engine.kernel.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The compute speed a decode step sees, as {@link StreamingRead} gives its memory speed: every core runs eight
 * independent chains of vector multiply-adds in registers for a fixed count. The cores of this machine are shared
 * with other machines too, and their speed moves from minute to minute; a step that is slow beside a normal read
 * shows here.
 */
public final class ComputeProbe {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 8; // enough to keep both multiply-add pipes busy through their latency
    private static final float[] TERMS = {1f, 0.5f}; // read from an array, so the JIT cannot fold the chains

    private ComputeProbe() {}

    /** Multiply-adds per second over all cores, in GFLOP/s (two FLOPs each), for {@code rounds} rounds of every chain on every core. */
    public static double gflops(int rounds) {
        int cores = Parallel.cores();
        long t0 = System.nanoTime();
        float[] ends = run(rounds);
        long nanos = System.nanoTime() - t0;
        if (ends[0] != rounds * TERMS[1]) throw new IllegalStateException("probe chains ended at " + ends[0] + ", not " + rounds * TERMS[1]);
        return 2.0 * CHAINS * F.length() * rounds * cores / nanos;
    }

    /** Each core's first lane after {@code rounds} rounds of x = x * 1 + 0.5 from 0: rounds / 2 while that is exact in fp32. */
    static float[] run(int rounds) {
        float[] ends = new float[Parallel.cores()];
        Parallel.forEach(ends.length, p -> ends[p] = chains(rounds));
        return ends;
    }

    private static float chains(int rounds) {
        FloatVector m = FloatVector.broadcast(F, TERMS[0]), c = FloatVector.broadcast(F, TERMS[1]);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int r = 0; r < rounds; r++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
        }
        // every chain must reach the result, or the JIT may drop it
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).lane(0) / CHAINS;
    }
}
