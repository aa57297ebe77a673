package gemel.link;

import java.util.Arrays;

/**
 * Collects token-id sequences into flat arrays, then builds an {@link EntityTree} in two
 * breadth-first passes over them: the first sorts the sequences level by level (an MSD radix
 * sort) and counts the nodes, the second fills exactly sized node arrays.
 */
public final class EntityTreeBuilder {
    private final int startToken;
    private int[] tokens = new int[1 << 16]; // all sequences back to back
    private int[] offsets = new int[1 << 12]; // [sequences + 1]: sequence i is tokens[offsets[i] .. offsets[i + 1])
    private int sequences;

    EntityTreeBuilder(int startToken) {
        if (startToken < 0) throw new IllegalArgumentException("start token must be >= 0, got " + startToken);
        this.startToken = startToken;
    }

    /** Adds one entry; it must begin with the start token, and hold no negative id. Duplicates are merged. */
    public EntityTreeBuilder add(int[] sequence) {
        if (sequence.length == 0 || sequence[0] != startToken)
            throw new IllegalArgumentException("entry " + sequences + " " + Arrays.toString(sequence)
                    + " does not begin with the start token " + startToken);
        int end = offsets[sequences];
        if ((long) end + sequence.length > Integer.MAX_VALUE - 8)
            throw new IllegalStateException("entity tree input exceeds 2^31 tokens");
        if (end + sequence.length > tokens.length) tokens = Arrays.copyOf(tokens, Math.max(end + sequence.length, (int) Math.min(Integer.MAX_VALUE - 8, tokens.length * 3L / 2)));
        for (int t : sequence) {
            if (t < 0) throw new IllegalArgumentException("entry " + sequences + " holds a negative token id " + t);
            tokens[end++] = t;
        }
        if (sequences + 2 > offsets.length) offsets = Arrays.copyOf(offsets, offsets.length * 3 / 2 + 2);
        offsets[++sequences] = end;
        return this;
    }

    public int size() { return sequences; }

    public EntityTree build() {
        int[] order = new int[sequences];
        for (int i = 0; i < sequences; i++) order[i] = i;
        Levels levels = new Levels(order);
        int nodes = levels.run(null, null);
        int[] firstChild = new int[nodes + 1];
        int[] token = new int[nodes];
        levels.run(firstChild, token);
        int distinct = sequences == 0 ? 0 : 1;
        for (int i = 1; i < sequences; i++) if (!same(order[i - 1], order[i])) distinct++;
        return new EntityTree(startToken, distinct, firstChild, token);
    }

    /** Key of sequence {@code s} at depth {@code d}: token + 1, or 0 when the sequence ends before it. */
    private int key(int s, int d) {
        int at = offsets[s] + d;
        return at < offsets[s + 1] ? tokens[at] + 1 : 0;
    }

    private boolean same(int a, int b) {
        int la = offsets[a + 1] - offsets[a];
        return la == offsets[b + 1] - offsets[b] && Arrays.equals(tokens, offsets[a], offsets[a + 1], tokens, offsets[b], offsets[b + 1]);
    }

    /**
     * Walks the tree breadth first over {@code order}. Every node stands for a range of {@code order}
     * (the sequences sharing its path); its children split that range by the token at the node's depth.
     */
    private final class Levels {
        private final int[] order;  // [sequences] sequence ids, sorted lexicographically once the first run is done
        private long[] scratch;     // [largest range] sort keys: key << 32 | sequence id

        Levels(int[] order) { this.order = order; }

        /** Sorts (first run, arrays null) or fills the node arrays (second run); returns the node count. */
        int run(int[] firstChild, int[] token) {
            boolean sorting = firstChild == null;
            int n = order.length;
            int cap = Math.max(1, n); // a level never has more nodes than sequences
            int[] lo = new int[cap], hi = new int[cap], nextLo = new int[cap], nextHi = new int[cap];
            hi[0] = n;
            int width = 1, node = 0, created = 1;
            if (token != null) token[0] = -1;
            for (int depth = 0; width > 0; depth++) {
                int nextWidth = 0;
                for (int j = 0; j < width; j++, node++) {
                    if (sorting) sortRange(lo[j], hi[j], depth);
                    else firstChild[node] = created;
                    int i = lo[j];
                    while (i < hi[j] && key(order[i], depth) == 0) i++;
                    while (i < hi[j]) {
                        int k = key(order[i], depth), end = i + 1;
                        while (end < hi[j] && key(order[end], depth) == k) end++;
                        if (!sorting) token[created] = k - 1;
                        created++;
                        nextLo[nextWidth] = i;
                        nextHi[nextWidth++] = end;
                        i = end;
                    }
                }
                int[] t = lo; lo = nextLo; nextLo = t;
                t = hi; hi = nextHi; nextHi = t;
                width = nextWidth;
            }
            if (!sorting) firstChild[node] = created;
            return created;
        }

        private void sortRange(int from, int to, int depth) {
            if (to - from < 2) return;
            int first = key(order[from], depth);
            boolean uniform = true;
            for (int i = from + 1; i < to && uniform; i++) uniform = key(order[i], depth) == first;
            if (uniform) return;
            int m = to - from;
            if (scratch == null || scratch.length < m) scratch = new long[m];
            for (int i = 0; i < m; i++) scratch[i] = (long) key(order[from + i], depth) << 32 | order[from + i];
            Arrays.sort(scratch, 0, m);
            for (int i = 0; i < m; i++) order[from + i] = (int) scratch[i];
        }
    }
}
