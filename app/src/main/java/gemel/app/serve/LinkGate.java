package gemel.app.serve;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission to linking: {@code concurrent} holders at once, at most {@code queueLimit} more waiting; a
 * request beyond that is turned away at once (503) instead of piling up, so the CPU is never
 * oversubscribed and a burst cannot exhaust memory. Closing it turns every later request away.
 */
final class LinkGate {
    private final int concurrent;
    private final int queueLimit;
    private final Semaphore permits;
    private final AtomicInteger admitted = new AtomicInteger(); // holding or waiting
    private volatile boolean closed;

    LinkGate(int concurrent, int queueLimit) {
        this.concurrent = concurrent;
        this.queueLimit = queueLimit;
        this.permits = new Semaphore(concurrent, true);
    }

    /** A turn to link; close it when done. */
    interface Turn extends AutoCloseable {
        @Override
        void close();
    }

    /** Waits for a turn, or fails at once with 503 when the queue is full or the server is shutting down. */
    Turn enter() throws HttpProblem {
        if (closed) throw unavailable("the server is shutting down");
        if (admitted.incrementAndGet() > concurrent + queueLimit) {
            admitted.decrementAndGet();
            throw unavailable("overloaded: " + concurrent + " requests linking and " + queueLimit + " waiting; retry later");
        }
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            admitted.decrementAndGet();
            Thread.currentThread().interrupt();
            throw unavailable("the server is shutting down");
        }
        return () -> {
            permits.release();
            admitted.decrementAndGet();
        };
    }

    /** Requests holding or waiting for a turn. */
    int admitted() { return admitted.get(); }

    /** Turns later requests away and waits up to {@code grace} for the running ones; true when all have finished. */
    boolean closeAndDrain(Duration grace) throws InterruptedException {
        closed = true;
        return permits.tryAcquire(concurrent, grace.toNanos(), TimeUnit.NANOSECONDS);
    }

    private static HttpProblem unavailable(String message) { return new HttpProblem(503, null, message); }
}
