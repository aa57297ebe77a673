package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {

    @Test
    void everyIndexRunsExactlyOnce() {
        for (int count : new int[] {1, 2, 3, 7, 1000}) {
            AtomicIntegerArray runs = new AtomicIntegerArray(count);
            Parallel.forEach(count, runs::incrementAndGet);
            for (int i = 0; i < count; i++) assertEquals(1, runs.get(i), "count " + count + " index " + i);
        }
    }

    @Test
    void nestedCallsRunTheirPiecesToo() {
        AtomicIntegerArray runs = new AtomicIntegerArray(8 * 16);
        Parallel.forEach(8, outer -> Parallel.forEach(16, inner -> runs.incrementAndGet(outer * 16 + inner)));
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), "index " + i);
    }

    @Test
    void aFailingPieceIsRethrownAndTheWorkersStayUsable() {
        IllegalStateException failure = new IllegalStateException("piece 5 failed");
        var thrown = assertThrows(IllegalStateException.class, () -> Parallel.forEach(64, i -> {
            if (i == 5) throw failure;
        }));
        assertSame(failure, thrown);
        AtomicIntegerArray runs = new AtomicIntegerArray(64);
        Parallel.forEach(64, runs::incrementAndGet);
        for (int i = 0; i < 64; i++) assertEquals(1, runs.get(i));
    }

    @Test
    void callersOnSeveralThreadsAllFinish() throws InterruptedException {
        int callers = 4, count = 200, rounds = 50;
        AtomicIntegerArray runs = new AtomicIntegerArray(callers * count);
        Thread[] threads = new Thread[callers];
        for (int c = 0; c < callers; c++) {
            int caller = c;
            threads[c] = new Thread(() -> {
                for (int r = 0; r < rounds; r++) Parallel.forEach(count, i -> runs.incrementAndGet(caller * count + i));
            });
            threads[c].start();
        }
        for (Thread t : threads) t.join();
        for (int i = 0; i < runs.length(); i++) assertEquals(rounds, runs.get(i), "index " + i);
    }

    @Test
    void rowBlocksCoverEveryRowOnceInOrderWithinABlock() {
        for (int rows : new int[] {0, 1, 15, 16, 17, 100, 1000}) {
            AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(rows, 1));
            Parallel.forRows(rows, (r0, r1) -> {
                for (int r = r0; r < r1; r++) seen.incrementAndGet(r);
            });
            for (int r = 0; r < rows; r++) assertEquals(1, seen.get(r), rows + " rows, row " + r);
        }
    }

    @Test
    void theCallerWaitsForAPieceThatTakesLong() {
        AtomicIntegerArray done = new AtomicIntegerArray(4);
        Parallel.forEach(4, i -> {
            if (i == 3) {
                long until = System.nanoTime() + 50_000_000L; // long enough for the caller to stop spinning and sleep
                while (System.nanoTime() < until) Thread.onSpinWait();
            }
            done.set(i, 1);
        });
        for (int i = 0; i < 4; i++) assertEquals(1, done.get(i), "piece " + i + " finished before forEach returned");
    }
}
