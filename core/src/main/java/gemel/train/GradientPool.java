package gemel.train;

import gemel.engine.grad.InputGradients;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * The examples of one optimizer step computed by several {@link ExampleGradients} at once, each taking the next example
 * not yet taken; the results come back in example order, so that the trainer sums them as one machine would and the
 * mapper comes out the same, bit for bit. A source that fails with an I/O error (a worker lost, a network cut) is
 * dropped, with a line on the log, and its example goes to the others; when none is left, the step fails.
 */
public final class GradientPool implements AutoCloseable {
    private final List<ExampleGradients> sources;
    private final PrintStream log;
    private final ExecutorService threads;

    /**
     * One example of a step: its embeddings [tokens, width], made when a source takes it (a step's sixteen at once would
     * hold 400 MB at OPT-6.7B), and its labels.
     */
    public record Example(Supplier<float[]> embeddings, int tokens, int[] labels) {
        float[] embeds() { return embeddings.get(); }
    }

    public GradientPool(List<ExampleGradients> sources, PrintStream log) {
        if (sources.isEmpty()) throw new IllegalArgumentException("no machine to compute gradients on");
        this.sources = new ArrayList<>(sources);
        this.log = log;
        this.threads = Executors.newFixedThreadPool(sources.size(), r -> {
            Thread t = new Thread(r, "gemel-gradients");
            t.setDaemon(true);
            return t;
        });
    }

    /** The pool of this process's model alone. */
    public static GradientPool local(InputGradients gradients) {
        return new GradientPool(List.of(ExampleGradients.local(gradients)), null);
    }

    /** How many sources are left. */
    public synchronized int size() { return sources.size(); }

    /** The results of {@code examples}, in their order. */
    public List<InputGradients.Result> computeAll(List<Example> examples) {
        InputGradients.Result[] results = new InputGradients.Result[examples.size()];
        if (examples.isEmpty()) return List.of();
        List<ExampleGradients> working;
        synchronized (this) {
            working = List.copyOf(sources);
        }
        if (working.size() == 1) { // no threads for the common case of this machine alone
            for (int i = 0; i < results.length; i++) results[i] = computeOne(working.get(0), examples.get(i));
            return List.of(results);
        }
        Queue queue = new Queue(examples.size());
        List<Future<?>> running = new ArrayList<>();
        for (ExampleGradients source : working) {
            running.add(threads.submit(() -> {
                for (int i; (i = queue.next()) >= 0; ) {
                    try {
                        results[i] = source.compute(examples.get(i).embeds(), examples.get(i).tokens(), examples.get(i).labels());
                        queue.done();
                    } catch (IOException e) {
                        queue.giveBack(i);
                        drop(source, e);
                        return;
                    } catch (RuntimeException e) { // not the machine's fault: the step fails, and the others stop waiting
                        queue.stop();
                        throw new IllegalStateException(source.name() + ": " + e.getMessage(), e);
                    }
                }
            }));
        }
        try {
            for (Future<?> f : running) f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while computing gradients", e);
        }
        if (!queue.finished())
            throw new IllegalStateException("every machine computing gradients failed (see above); the last checkpoint is kept: fix them and --resume");
        return List.of(results);
    }

    private InputGradients.Result computeOne(ExampleGradients source, Example e) {
        try {
            return source.compute(e.embeds(), e.tokens(), e.labels());
        } catch (IOException ex) {
            throw new IllegalStateException(source.name() + ": " + ex.getMessage() + "; the last checkpoint is kept: fix it and --resume", ex);
        }
    }

    private synchronized void drop(ExampleGradients source, IOException e) {
        sources.remove(source);
        if (log != null) log.printf("gradients: dropped %s (%s); %d left%n", source.name(), e.getMessage(), sources.size());
    }

    @Override
    public void close() { threads.shutdownNow(); }

    /**
     * Example indices to take: a source asks for the next while any is open, and waits while others are still computing
     * theirs (a failed one gives its example back); none is left to take once all are done.
     */
    private static final class Queue {
        private final ArrayDeque<Integer> open = new ArrayDeque<>();
        private int remaining, taken;
        private boolean stopped;

        Queue(int n) {
            for (int i = 0; i < n; i++) open.add(i);
            remaining = n;
        }

        /** The next example to compute, or -1 when every example is done or being computed to the end by another source. */
        synchronized int next() {
            while (open.isEmpty() && taken > 0 && !stopped) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return -1;
                }
            }
            Integer i = stopped ? null : open.poll();
            if (i == null) return -1;
            taken++;
            return i;
        }

        synchronized void done() {
            taken--;
            remaining--;
            notifyAll();
        }

        synchronized void giveBack(int i) {
            taken--;
            open.addFirst(i);
            notifyAll();
        }

        synchronized void stop() {
            stopped = true;
            notifyAll();
        }

        synchronized boolean finished() { return remaining == 0; }
    }
}
