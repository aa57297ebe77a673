package gemel.link;

import java.lang.management.ManagementFactory;
import java.util.Random;

/**
 * Measures the entity tree at Wikipedia scale on synthetic names (not a test): build time, heap
 * held, lookup time. Names are 2..10 tokens with Zipf-distributed ids, so that, as in real titles,
 * frequent first tokens are shared by many names. Run after {@code mvn -pl core -am test-compile}:
 * <pre>java -Xmx2g -cp core/target/classes:core/target/test-classes gemel.link.EntityTreeBench [names]</pre>
 */
public final class EntityTreeBench {
    private static final int START = 2, VOCAB = 50_000;

    public static void main(String[] args) {
        int names = args.length > 0 ? Integer.parseInt(args[0]) : 5_000_000;
        Random rnd = new Random(42);
        double[] firstZipf = zipfCumulative(VOCAB, 1.1), laterZipf = zipfCumulative(VOCAB, 0.8);
        EntityTreeBuilder builder = EntityTree.builder(START);
        int[][] sample = new int[1 << 16][];
        long tokens = 0;
        for (int i = 0; i < names; i++) {
            int[] e = new int[2 + 2 + Math.min(8, (int) (-Math.log(1 - rnd.nextDouble()) * 3))];
            e[0] = START;
            e[e.length - 1] = START;
            e[1] = 3 + draw(firstZipf, rnd);
            for (int j = 2; j < e.length - 1; j++) e[j] = 3 + draw(laterZipf, rnd);
            builder.add(e);
            tokens += e.length;
            if (i < sample.length) sample[i] = e;
        }
        long heapBefore = usedHeap();
        long t0 = System.nanoTime();
        EntityTree tree = builder.build();
        double buildSeconds = (System.nanoTime() - t0) / 1e9;
        builder = null; // only the tree stays reachable
        long heapAfter = usedHeap();
        System.out.printf("names %,d  tokens %,d  nodes %,d  distinct %,d%n", names, tokens, tree.nodeCount(), tree.entryCount());
        System.out.printf("build %.1f s  tree arrays %.1f MB  heap held after build %.1f MB (before build incl. input %.1f MB)%n",
                buildSeconds, tree.byteSize() / 1e6, heapAfter / 1e6, heapBefore / 1e6);

        long sink = 0, lookups = 0, children = 0;
        long t1 = System.nanoTime();
        for (int round = 0; round < 20; round++)
            for (int[] e : sample)
                for (int len = 2; len < e.length; len++) {
                    int node = tree.nodeAfter(e, len);
                    sink += node < 0 ? 0 : tree.childCount(node);
                    lookups++;
                }
        double walkNs = (System.nanoTime() - t1) / (double) lookups;
        long t2 = System.nanoTime();
        for (int round = 0; round < 20; round++)
            for (int[] e : sample)
                for (int len = 2; len < e.length; len++) children += tree.allowedNext(e, len).length;
        double copyNs = (System.nanoTime() - t2) / (double) lookups;
        System.out.printf("lookup (walk to the node) %.0f ns; allowedNext (walk + copy of %.0f children on average) %.0f ns; %,d prefixes below the first level (checksum %d)%n",
                walkNs, children / (double) lookups, copyNs, lookups, sink);
    }

    private static long usedHeap() {
        for (int i = 0; i < 3; i++) System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static double[] zipfCumulative(int n, double s) {
        double[] c = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++) c[k] = sum += 1 / Math.pow(k + 1, s);
        for (int k = 0; k < n; k++) c[k] /= sum;
        return c;
    }

    private static int draw(double[] cumulative, Random rnd) {
        int i = java.util.Arrays.binarySearch(cumulative, rnd.nextDouble());
        return Math.min(cumulative.length - 1, i < 0 ? -i - 1 : i);
    }
}
