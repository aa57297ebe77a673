package gemel.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LinearWarmupScheduleTest {

    @Test
    void valuesAtTheBoundaries() {
        LinearWarmupSchedule s = LinearWarmupSchedule.of(1e-3, 100, 0.1);
        assertEquals(10, s.warmupSteps());
        assertEquals(0.0, s.rate(0), "the first update has rate 0, as transformers' schedule");
        assertEquals(1e-4, s.rate(1), 1e-15);
        assertEquals(9e-4, s.rate(9), 1e-15);
        assertEquals(1e-3, s.rate(10), 1e-15, "peak right after warmup");
        assertEquals(1e-3 * 45 / 90, s.rate(55), 1e-15);
        assertEquals(1e-3 / 90, s.rate(99), 1e-15, "last step");
        assertEquals(0.0, s.rate(100));
        assertEquals(0.0, s.rate(150), "never negative past the end");
    }

    @Test
    void countsOptimizerStepsSoWarmupEnds() {
        // 800 micro-batches with accumulation 16 are 50 optimizer steps: warmup 5, peak reached.
        LinearWarmupSchedule s = LinearWarmupSchedule.of(2.0, 800 / 16, 0.1);
        double peak = 0;
        for (int i = 0; i < 50; i++) peak = Math.max(peak, s.rate(i));
        assertEquals(2.0, peak, 1e-12);
    }

    @Test
    void tinyRunsWithoutWarmupStartAtFullRate() {
        LinearWarmupSchedule s = LinearWarmupSchedule.of(1.0, 5, 0.1);
        assertEquals(0, s.warmupSteps());
        assertEquals(1.0, s.rate(0));
        assertEquals(0.2, s.rate(4), 1e-15);
    }

    @Test
    void rejectsEmptySchedule() {
        assertThrows(IllegalArgumentException.class, () -> LinearWarmupSchedule.of(1.0, 0, 0.1));
    }
}
