package gemel.bench;

import gemel.link.EntityTree;
import gemel.link.EntityTreeBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The entity tree at the size of Wikipedia's titles: builds it from synthetic entries
 * {@code [start, name ids..., start]} (names of 1 to 10 tokens whose first token comes from a small
 * pool, so that prefixes are shared as in real titles), then times lookups of the tokens allowed after
 * random prefixes of real entries, and a save and load of the tree.
 */
final class EntityTreeBench {
    private static final int FIRST_TOKENS = 2000;   // names start with one of this many tokens
    private static final int MAX_NAME_TOKENS = 10;

    private EntityTreeBench() {}

    static void run(BenchPlan plan, Path outputsDir, ResultLog log) {
        BenchPlan.EntityTreePlan p = plan.entityTree();
        SplittableRandom random = new SplittableRandom(p.seed());
        int[][] entries = new int[p.names()][];
        for (int i = 0; i < entries.length; i++) entries[i] = entry(random, p.startToken(), p.vocab());

        long t0 = System.nanoTime();
        EntityTreeBuilder builder = EntityTree.builder(p.startToken());
        for (int[] e : entries) builder.add(e);
        EntityTree tree = builder.build();
        double build = (System.nanoTime() - t0) / 1e9;
        log.record("kind", "build", "names", p.names(), "distinct", tree.entryCount(), "nodes", tree.nodeCount(),
                "tree_bytes", tree.byteSize(), "seconds", build);

        lookups(tree, entries, p, random, log);

        Path file = outputsDir.resolve("entity-tree.bench.bin");
        t0 = System.nanoTime();
        tree.save(file);
        double save = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        EntityTree loaded = EntityTree.load(file);
        double load = (System.nanoTime() - t0) / 1e9;
        if (loaded.nodeCount() != tree.nodeCount()) throw new IllegalStateException("the loaded tree has " + loaded.nodeCount() + " nodes, not " + tree.nodeCount());
        try {
            log.record("kind", "file", "file_bytes", Files.size(file), "save_seconds", save, "load_seconds", load);
            Files.delete(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    private static int[] entry(SplittableRandom random, int start, int vocab) {
        int n = 1 + random.nextInt(MAX_NAME_TOKENS);
        int[] e = new int[n + 2];
        e[0] = start;
        for (int i = 1; i <= n; i++) {
            int t;
            do t = i == 1 ? random.nextInt(FIRST_TOKENS) : random.nextInt(vocab); while (t == start);
            e[i] = t;
        }
        e[n + 1] = start;
        return e;
    }

    /** Single-threaded: each query is a prefix of a real entry, so every lookup must find its node. */
    private static void lookups(EntityTree tree, int[][] entries, BenchPlan.EntityTreePlan p, SplittableRandom random, ResultLog log) {
        int[][] prefixes = new int[p.lookups()][];
        for (int q = 0; q < prefixes.length; q++) {
            int[] e = entries[random.nextInt(entries.length)];
            prefixes[q] = Arrays.copyOf(e, 1 + random.nextInt(e.length - 1)); // the start token, then 0..all name tokens
        }
        long allowed = 0;
        long t0 = System.nanoTime();
        for (int[] prefix : prefixes) {
            int[] next = tree.allowedNext(prefix);
            if (next.length == 0) throw new IllegalStateException("no token allowed after the prefix of a real entry " + Arrays.toString(prefix));
            allowed += next.length;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        log.record("kind", "lookup", "lookups", prefixes.length, "seconds", seconds, "mean_allowed", (double) allowed / prefixes.length);
    }
}
