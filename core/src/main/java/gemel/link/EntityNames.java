package gemel.link;

import gemel.engine.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.util.List;

/**
 * Turns entity names into prefix-tree entries: {@code [start] + ids(name) + [end]}, which for OPT is
 * exactly the reference's {@code tokenize(name + "</s>")} = {@code [2, name ids..., 2]}, and also
 * holds for tokenizers that add no BOS of their own (generation from embeddings starts at the
 * start token either way).
 */
public final class EntityNames {
    private static final int BATCH = 10_000;

    private EntityNames() {}

    public static int[] entry(Tokenizer tokenizer, String name, int startToken, int endToken) {
        return wrap(tokenizer.encode(name, false), startToken, endToken);
    }

    private static int[] wrap(int[] ids, int startToken, int endToken) {
        int[] e = new int[ids.length + 2];
        e[0] = startToken;
        System.arraycopy(ids, 0, e, 1, ids.length);
        e[e.length - 1] = endToken;
        return e;
    }

    /** The tree of all {@code names}, tokenized in batches; progress (done, rate, time left) goes to {@code progress} when not null. */
    public static EntityTree tree(Tokenizer tokenizer, List<String> names, int startToken, int endToken, PrintStream progress) {
        EntityTreeBuilder builder = EntityTree.builder(startToken);
        long t0 = System.nanoTime();
        for (int from = 0; from < names.size(); from += BATCH) {
            List<String> batch = names.subList(from, Math.min(names.size(), from + BATCH));
            for (int[] ids : tokenizer.encodeAll(batch, false)) builder.add(wrap(ids, startToken, endToken));
            int done = from + batch.size();
            if (progress != null) {
                double seconds = (System.nanoTime() - t0) / 1e9, rate = done / Math.max(seconds, 1e-9);
                progress.printf("entity names: %,d / %,d tokenized (%.0f / s, %.0f s left)%n", done, names.size(), rate, (names.size() - done) / rate);
            }
        }
        EntityTree tree = builder.build();
        if (progress != null)
            progress.printf("entity tree: %,d names, %,d nodes, %.1f MB, built in %.1f s%n", tree.entryCount(), tree.nodeCount(),
                    tree.byteSize() / 1e6, (System.nanoTime() - t0) / 1e9);
        return tree;
    }
}
