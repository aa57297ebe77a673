package gemel.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Admission: holders plus waiters never exceed concurrent + queue, and closing waits only for those admitted. */
class LinkGateTest {
    @Test
    void beyondTheQueueIsRefusedAtOnceAndAFreedTurnAdmitsAgain() throws Exception {
        LinkGate gate = new LinkGate(1, 1);
        LinkGate.Turn first = gate.enter();
        CountDownLatch waiting = new CountDownLatch(1), admitted = new CountDownLatch(1);
        Thread second = Thread.ofVirtual().start(() -> {
            waiting.countDown();
            try (LinkGate.Turn t = gate.enter()) {
                admitted.countDown();
            } catch (HttpProblem e) {
                throw new AssertionError(e);
            }
        });
        assertTrue(waiting.await(10, TimeUnit.SECONDS));
        for (int i = 0; i < 1000 && gate.admitted() < 2; i++) Thread.sleep(1); // the second is now queued
        assertEquals(2, gate.admitted());
        HttpProblem refused = assertThrows(HttpProblem.class, gate::enter);
        assertEquals(503, refused.status());
        assertFalse(admitted.await(50, TimeUnit.MILLISECONDS), "the queued request waits while the turn is held");
        first.close();
        assertTrue(admitted.await(10, TimeUnit.SECONDS));
        second.join(10_000);
        assertEquals(0, gate.admitted());
        gate.enter().close();
    }

    @Test
    void closingWaitsForRunningTurnsAndRefusesNewOnes() throws Exception {
        LinkGate gate = new LinkGate(2, 4);
        LinkGate.Turn running = gate.enter();
        assertFalse(gate.closeAndDrain(Duration.ofMillis(50)), "a held turn keeps the drain waiting until the grace runs out");
        assertEquals(503, assertThrows(HttpProblem.class, gate::enter).status());
        running.close();
        assertTrue(new LinkGate(1, 0).closeAndDrain(Duration.ZERO), "nothing running: drained at once");
        LinkGate other = new LinkGate(2, 4);
        LinkGate.Turn held = other.enter();
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            held.close();
        });
        assertTrue(other.closeAndDrain(Duration.ofSeconds(10)), "the drain ends when the running turn does");
    }
}
