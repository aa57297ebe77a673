package gemel.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.kernel.Parallel;
import org.junit.jupiter.api.Test;

class ComputeProbeTest {

    /** Every core's chains do all their rounds: x = x * 1 + 0.5 from 0 ends at rounds / 2, exact in fp32 this far. */
    @Test
    void everyChainRunsEveryRound() {
        for (int rounds : new int[] {1, 7, 20_000}) {
            float[] ends = ComputeProbe.run(rounds);
            assertEquals(Parallel.cores(), ends.length);
            for (float end : ends) assertEquals(rounds * 0.5f, end, "rounds " + rounds);
        }
        assertTrue(ComputeProbe.gflops(20_000) > 0);
    }
}
