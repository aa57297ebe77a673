package gemel.link;

import gemel.engine.generate.Hypothesis;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Several {@link NameSearch}es shared by the threads that link queries at once: each search takes a free one and gives
 * it back; one that fails with an I/O error (a worker lost) is dropped, with a line on the log, and the search runs on
 * another. When none is left, the search fails.
 */
public final class SearchPool implements NameSearch {
    private final ArrayDeque<NameSearch> free;
    private final PrintStream log;
    private int alive;

    public SearchPool(List<NameSearch> searches, PrintStream log) {
        if (searches.isEmpty()) throw new IllegalArgumentException("no machine to search on");
        this.free = new ArrayDeque<>(searches);
        this.log = log;
        this.alive = searches.size();
    }

    /** How many searches can run at once. */
    public synchronized int size() { return alive; }

    @Override
    public List<Hypothesis> search(float[] embeddings, int promptLength, DecodingOptions decoding) {
        while (true) {
            NameSearch s = take();
            try {
                List<Hypothesis> found = s.search(embeddings, promptLength, decoding);
                giveBack(s);
                return found;
            } catch (IOException e) {
                drop(s, e);
            } catch (RuntimeException e) {
                giveBack(s);
                throw e;
            }
        }
    }

    private synchronized NameSearch take() {
        while (free.isEmpty() && alive > 0) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a machine to search on", e);
            }
        }
        if (alive == 0) throw new IllegalStateException("every machine searching for names failed (see above)");
        return free.poll();
    }

    private synchronized void giveBack(NameSearch s) {
        free.add(s);
        notifyAll();
    }

    private synchronized void drop(NameSearch s, IOException e) {
        alive--;
        if (log != null) log.printf("search: dropped %s (%s); %d left%n", s.name(), e.getMessage(), alive);
        notifyAll();
    }

    @Override
    public String name() { return "a pool of " + size(); }
}
