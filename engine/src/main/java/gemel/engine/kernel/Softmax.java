package gemel.engine.kernel;

/** Softmax over a slice, in place; the maximum is subtracted first so large scores do not overflow. */
public final class Softmax {
    private Softmax() {}

    /** x[off .. off + n) becomes exp(x - max) / sum; entries at -infinity become 0. */
    public static void inPlace(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        if (max == Float.NEGATIVE_INFINITY) throw new IllegalArgumentException("softmax over " + n + " entries that are all -infinity");
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = (float) (1 / sum);
        for (int i = 0; i < n; i++) x[off + i] *= inv;
    }
}
