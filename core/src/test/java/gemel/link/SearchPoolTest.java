package gemel.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.generate.Hypothesis;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Searches shared by threads: each runs on a free machine; a lost one's search runs on another. */
class SearchPoolTest {
    private static final DecodingOptions D = new DecodingOptions(2, 3, 1.0, true, 1);

    /** A search answering with the prompt's first value as its token, failing from its {@code failFrom}-th call on. */
    private static NameSearch search(String name, int failFrom, AtomicInteger running, AtomicInteger most) {
        AtomicInteger calls = new AtomicInteger();
        return new NameSearch() {
            @Override
            public List<Hypothesis> search(float[] embeddings, int promptLength, DecodingOptions decoding) throws IOException {
                int now = running.incrementAndGet();
                most.accumulateAndGet(now, Math::max);
                try {
                    if (calls.incrementAndGet() >= failFrom) throw new IOException(name + " is gone");
                    Thread.sleep(2);
                    return List.of(new Hypothesis(new int[] {(int) embeddings[0]}, -1, true));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                } finally {
                    running.decrementAndGet();
                }
            }

            @Override
            public String name() { return name; }
        };
    }

    @Test
    void searchesRunOnFreeMachinesAndALostOnesGoElsewhere() throws Exception {
        AtomicInteger running = new AtomicInteger(), most = new AtomicInteger();
        SearchPool pool = new SearchPool(List.of(search("a", Integer.MAX_VALUE, running, most), search("b", 3, running, most)), null);
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<Hypothesis>>> found = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                float[] prompt = {i};
                found.add(threads.submit(() -> pool.search(prompt, 1, D)));
            }
            for (int i = 0; i < 40; i++) assertEquals(i, found.get(i).get().get(0).tokens()[0]);
        } finally {
            threads.shutdownNow();
        }
        assertTrue(most.get() <= 2, "at most one search a machine at a time: " + most.get());
        assertEquals(1, pool.size(), "b was dropped");
    }

    @Test
    void withEveryMachineLostTheSearchFails() {
        AtomicInteger running = new AtomicInteger(), most = new AtomicInteger();
        SearchPool pool = new SearchPool(List.of(search("a", 1, running, most)), null);
        var e = assertThrows(IllegalStateException.class, () -> pool.search(new float[] {0}, 1, D));
        assertTrue(e.getMessage().contains("every machine searching for names failed"), e.getMessage());
    }
}
