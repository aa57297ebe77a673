package gemel.engine.kernel;

/**
 * Causal self-attention over whole sequences with its backward, for a pass that needs input
 * gradients. Grouped key/value heads, padding masks and an optional sliding window. The forward keeps
 * no probabilities: the backward recomputes each query's softmax row from q and k (as many products as
 * the forward, but memory O(rows * width) instead of O(heads * tokens^2)), then uses softmax's
 * {@code dz = p * (dp - sum(p * dp))}. A padding query attends to nothing (its output is zero) and
 * a padding key is never visible. Tasks run per (sequence, key/value head) on all cores: the query
 * heads of a group all add into its dk, dv.
 *
 * @param mask   [batch, tokens], 1 real, 0 padding
 * @param window keys j with i - j >= window are invisible to query i; 0: no window
 */
public record CausalSelfAttention(int batch, int tokens, int heads, int kvHeads, int headDim, float scale, int[] mask, int window) {

    public CausalSelfAttention {
        if (heads % kvHeads != 0) throw new IllegalArgumentException(heads + " attention heads are not a multiple of " + kvHeads + " key/value heads");
        if (mask.length != batch * tokens) throw new IllegalArgumentException("mask has " + mask.length + " entries, " + batch + " x " + tokens + " expected");
    }

    /** q [rows, heads * headDim], k, v [rows, kvHeads * headDim] -> a new [rows, heads * headDim]. */
    public float[] forward(float[] q, float[] k, float[] v) {
        float[] out = new float[batch * tokens * heads * headDim];
        Parallel.forEach(batch * kvHeads, task -> {
            float[] p = new float[tokens];
            int b = task / kvHeads, kh = task % kvHeads;
            for (int h = kh * group(); h < (kh + 1) * group(); h++) {
                for (int i = 0; i < tokens; i++) {
                    int first = probabilities(q, k, b, h, i, p);
                    if (first < 0) continue;
                    int qo = row(b, i) * heads * headDim + h * headDim;
                    for (int j = first; j <= i; j++)
                        if (p[j] != 0) Vectors.axpy(p[j], v, row(b, j) * kvWidth() + kh * headDim, out, qo, headDim);
                }
            }
        });
        return out;
    }

    /** Given dOut [rows, heads * headDim], the gradients of q (a new array), k and v (new arrays). */
    public Gradients backward(float[] q, float[] k, float[] v, float[] dOut) {
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        Parallel.forEach(batch * kvHeads, task -> {
            float[] p = new float[tokens], dp = new float[tokens];
            int b = task / kvHeads, kh = task % kvHeads;
            for (int h = kh * group(); h < (kh + 1) * group(); h++) {
                for (int i = 0; i < tokens; i++) {
                    int first = probabilities(q, k, b, h, i, p);
                    if (first < 0) continue;
                    int qo = row(b, i) * heads * headDim + h * headDim;
                    double pDotDp = 0;
                    for (int j = first; j <= i; j++) {
                        if (p[j] == 0) continue;
                        int vo = row(b, j) * kvWidth() + kh * headDim;
                        dp[j] = Vectors.dot(dOut, qo, v, vo, headDim);
                        pDotDp += p[j] * dp[j];
                        Vectors.axpy(p[j], dOut, qo, dv, vo, headDim);
                    }
                    for (int j = first; j <= i; j++) {
                        if (p[j] == 0) continue;
                        float ds = (float) (p[j] * (dp[j] - pDotDp)) * scale;
                        int ko = row(b, j) * kvWidth() + kh * headDim;
                        Vectors.axpy(ds, k, ko, dq, qo, headDim);
                        Vectors.axpy(ds, q, qo, dk, ko, headDim);
                    }
                }
            }
        });
        return new Gradients(dq, dk, dv);
    }

    /** dq [rows, heads * headDim], dk, dv [rows, kvHeads * headDim]. */
    public record Gradients(float[] dq, float[] dk, float[] dv) {}

    /**
     * The softmax row of query i of head h in sequence b into p[first .. i] (0 where invisible);
     * returns first, or -1 when the query is padding.
     */
    private int probabilities(float[] q, float[] k, int b, int h, int i, float[] p) {
        if (mask[row(b, i)] == 0) return -1;
        int first = window > 0 ? Math.max(0, i - window + 1) : 0;
        int qo = row(b, i) * heads * headDim + h * headDim, kh = h / group();
        float max = Float.NEGATIVE_INFINITY;
        for (int j = first; j <= i; j++) {
            if (mask[row(b, j)] == 0) continue;
            p[j] = scale * Vectors.dot(q, qo, k, row(b, j) * kvWidth() + kh * headDim, headDim);
            max = Math.max(max, p[j]);
        }
        double sum = 0;
        for (int j = first; j <= i; j++) {
            if (mask[row(b, j)] == 0) {
                p[j] = 0;
                continue;
            }
            p[j] = (float) Math.exp(p[j] - max);
            sum += p[j];
        }
        float inv = (float) (1 / sum);
        for (int j = first; j <= i; j++) p[j] *= inv;
        return first;
    }

    private int row(int b, int t) { return b * tokens + t; }

    private int group() { return heads / kvHeads; }

    private int kvWidth() { return kvHeads * headDim; }
}
