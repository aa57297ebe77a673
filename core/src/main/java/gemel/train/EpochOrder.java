package gemel.train;

/**
 * The order training items are visited in: a fresh Fisher-Yates shuffle per epoch from a
 * generator seeded by (seed, epoch). The order depends on nothing else, so a resumed run only
 * needs the seed, the epoch and its position in it to continue exactly.
 */
public final class EpochOrder {
    private EpochOrder() {
    }

    /** A permutation of {@code 0..count-1} for {@code epoch} (0-based). */
    public static int[] of(long seed, int epoch, int count) {
        int[] order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        SplitMix64 random = new SplitMix64(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = count - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
