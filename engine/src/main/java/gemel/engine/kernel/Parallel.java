package gemel.engine.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * Runs the independent pieces of a kernel on all cores: the calling thread and one worker per other
 * core take pieces from a shared counter. A decode step calls a few hundred kernels of well under a
 * millisecond each, with short serial work between them; a fork-join pool, whose idle workers park,
 * spent 20-80 µs per call waking them (a quarter of a small model's step). Here workers spin for
 * {@link #SPIN_NANOS} after a job, so the next one starts at once, and only then park. One caller
 * at a time owns the workers: a call from inside a piece (a nested kernel) or from another thread
 * while they are busy runs its pieces itself, in order.
 */
public final class Parallel {
    private static final long SPIN_NANOS = 2_000_000; // a worker waits this long for the next job before parking
    private static final int CORES = Runtime.getRuntime().availableProcessors();
    private static final int ROWS_PER_BLOCK = 16; // fewer rows per task cost more to hand out than to do
    private static final ReentrantLock OWNER = new ReentrantLock();
    private static final Worker[] WORKERS = new Worker[CORES - 1];
    private static volatile Job current; // the latest job; a new object for each call

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker("gemel-kernel-" + (i + 1));
            WORKERS[i].start();
        }
    }

    private Parallel() {}

    public static int cores() { return CORES; }

    /** Calls {@code body.accept(i)} for every i in [0, count), in parallel; returns when all are done, rethrowing the first failure. */
    public static void forEach(int count, IntConsumer body) {
        if (count <= 0) return;
        if (count == 1 || WORKERS.length == 0 || Thread.currentThread() instanceof Worker || OWNER.isHeldByCurrentThread() || !OWNER.tryLock()) {
            for (int i = 0; i < count; i++) body.accept(i);
            return;
        }
        try {
            Job job = new Job(count, body);
            current = job;
            for (Worker w : WORKERS) {
                if (w.parked) LockSupport.unpark(w);
            }
            job.work();
            job.awaitAll();
            job.rethrow();
        } finally {
            OWNER.unlock();
        }
    }

    /** Row work, cheap per row (norms, copies): {@code body.accept(r0, r1)} over blocks of rows, in parallel once there are enough rows. */
    public static void forRows(int rows, RowBlock body) {
        int blocks = Math.max(1, Math.min(4 * CORES, rows / ROWS_PER_BLOCK));
        forEach(blocks, b -> body.accept((int) ((long) rows * b / blocks), (int) ((long) rows * (b + 1) / blocks)));
    }

    /** Rows [r0, r1) of a {@link #forRows} call. */
    @FunctionalInterface
    public interface RowBlock {
        void accept(int r0, int r1);
    }

    /** One call's pieces: whoever is free takes the next index. */
    private static final class Job {
        private final int count;
        private final IntConsumer body;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        private volatile Throwable failure;

        Job(int count, IntConsumer body) {
            this.count = count;
            this.body = body;
        }

        void work() {
            for (int i; (i = next.getAndIncrement()) < count; ) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                } finally {
                    finished.incrementAndGet();
                }
            }
        }

        /** The caller has no pieces left to take: the others finish theirs (short, as kernel pieces are; a long one is waited for asleep). */
        void awaitAll() {
            for (int spins = 0; finished.get() < count; spins++) {
                if (spins < 1 << 16) Thread.onSpinWait();
                else LockSupport.parkNanos(20_000);
            }
        }

        void rethrow() {
            Throwable t = failure;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    private static final class Worker extends Thread {
        volatile boolean parked;

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        @Override
        public void run() {
            Job done = null;
            while (true) {
                Job job = next(done);
                job.work();
                done = job;
            }
        }

        /** Spins, then parks, until a job other than {@code done} is published. */
        private Job next(Job done) {
            long start = System.nanoTime();
            while (true) {
                Job job = current;
                if (job != done && job != null) return job;
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                // re-read after announcing: a caller that published before seeing the flag is seen here
                job = current;
                if (job == done || job == null) LockSupport.park(this);
                parked = false;
                start = System.nanoTime();
            }
        }
    }
}
