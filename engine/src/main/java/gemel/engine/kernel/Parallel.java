package gemel.engine.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/** Runs independent pieces of a kernel on one shared pool sized to the machine's cores. */
public final class Parallel {
    private static final ForkJoinPool POOL = new ForkJoinPool(Runtime.getRuntime().availableProcessors());

    private Parallel() {}

    public static int cores() { return POOL.getParallelism(); }

    /** Calls {@code body.accept(i)} for every i in [0, count), in parallel; returns when all are done. */
    public static void forEach(int count, IntConsumer body) {
        if (count <= 0) return;
        if (count == 1) {
            body.accept(0);
            return;
        }
        var task = new Range(0, count, body);
        // a worker of the pool calling in again (nested kernels) splits in place instead of waiting on itself
        if (Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL) task.invoke();
        else POOL.invoke(task);
    }

    private static final class Range extends RecursiveAction {
        private final int from, to;
        private final transient IntConsumer body;

        Range(int from, int to, IntConsumer body) {
            this.from = from;
            this.to = to;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                body.accept(from);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(from, mid, body), new Range(mid, to, body));
        }
    }
}
