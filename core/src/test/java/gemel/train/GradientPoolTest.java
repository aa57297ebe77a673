package gemel.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.grad.InputGradients;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Examples spread over several sources come back in order; a source lost gives its example to the others. */
class GradientPoolTest {
    /**
     * A source whose "gradient" names the example (its first embedding value), failing after {@code failAfter} examples;
     * its first call waits until every source of {@code started} has one, so that each surely gets an example.
     */
    private static ExampleGradients source(String name, int failAfter, boolean io, AtomicInteger calls, CountDownLatch started) {
        return new ExampleGradients() {
            private final AtomicInteger mine = new AtomicInteger();

            @Override
            public InputGradients.Result compute(float[] embeds, int tokens, int[] labels) throws IOException {
                calls.incrementAndGet();
                if (mine.get() == 0) {
                    started.countDown();
                    try {
                        started.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                if (mine.incrementAndGet() > failAfter) {
                    if (io) throw new IOException(name + " is gone");
                    throw new IllegalArgumentException(name + " refused the request");
                }
                sleep();
                return new InputGradients.Result(embeds[0], tokens, new float[] {embeds[0] * 2});
            }

            @Override
            public String name() { return name; }
        };
    }

    private static void sleep() {
        try {
            Thread.sleep(2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<GradientPool.Example> examples(int n) {
        List<GradientPool.Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] embeds = {i};
            out.add(new GradientPool.Example(() -> embeds, 1, new int[] {-100}));
        }
        return out;
    }

    private static void assertInOrder(List<InputGradients.Result> results, int n) {
        assertEquals(n, results.size());
        for (int i = 0; i < n; i++) {
            assertEquals(i, results.get(i).loss(), 0);
            assertArrayEquals(new float[] {2f * i}, results.get(i).gradients());
        }
    }

    @Test
    void examplesComeBackInOrderAndALostSourcesExampleGoesToTheOthers() {
        AtomicInteger calls = new AtomicInteger();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        CountDownLatch started = new CountDownLatch(3);
        try (GradientPool pool = new GradientPool(List.of(source("a", Integer.MAX_VALUE, true, calls, started), source("b", 0, true, calls, started),
                source("c", Integer.MAX_VALUE, true, calls, started)), new PrintStream(log, true, StandardCharsets.UTF_8))) {
            assertInOrder(pool.computeAll(examples(16)), 16);
            assertEquals(17, calls.get(), "b's example was computed again elsewhere");
            assertEquals(2, pool.size());
            assertTrue(log.toString(StandardCharsets.UTF_8).contains("dropped b (b is gone); 2 left"), log.toString(StandardCharsets.UTF_8));
            assertInOrder(pool.computeAll(examples(5)), 5);
        }
    }

    @Test
    void withEverySourceLostOrARefusedRequestTheStepFails() {
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch pair = new CountDownLatch(2);
        try (GradientPool pool = new GradientPool(List.of(source("a", 2, true, calls, pair), source("b", 1, true, calls, pair)), null)) {
            var e = assertThrows(IllegalStateException.class, () -> pool.computeAll(examples(8)));
            assertTrue(e.getMessage().contains("every machine computing gradients failed"), e.getMessage());
        }
        CountDownLatch both = new CountDownLatch(2);
        try (GradientPool pool = new GradientPool(List.of(source("a", Integer.MAX_VALUE, true, calls, both), source("b", 0, false, calls, both)), null)) {
            var e = assertThrows(IllegalStateException.class, () -> pool.computeAll(examples(8)));
            assertTrue(e.getMessage().contains("b: b refused the request"), e.getMessage());
        }
    }
}
