package gemel.train;

/**
 * A tiny seeded generator (Steele, Lea, Flood's SplitMix64) whose whole state is one long, so it
 * can be saved in a checkpoint and restored exactly.
 */
public final class SplitMix64 {
    private long state;

    public SplitMix64(long state) { this.state = state; }

    public long state() { return state; }

    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in {@code [0, bound)}: rejects the top partial block of 63-bit values, so no modulo bias. */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive, got " + bound);
        while (true) {
            long r = nextLong() >>> 1;
            long value = r % bound;
            if (r - value + (bound - 1) >= 0) return (int) value; // no overflow: r lies in a complete block
        }
    }

    /** Uniform in {@code [0, 1)} with 53 random bits. */
    public double nextDouble() { return (nextLong() >>> 11) * 0x1.0p-53; }

    /** Standard normal (Box-Muller, one value per call). */
    public double nextGaussian() {
        double u = 1.0 - nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * nextDouble());
    }
}
