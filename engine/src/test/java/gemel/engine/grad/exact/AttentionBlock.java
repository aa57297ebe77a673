package gemel.engine.grad.exact;

import gemel.engine.grad.Batch;
import java.util.stream.IntStream;

/**
 * Multi-head self-attention with grouped key/value heads, causal and padding masks, an optional
 * sliding window and optional rotary positions. Forward saves q, k (rotated), v and the attention
 * probabilities; backward uses softmax's {@code dz = p * (dp - sum(p * dp))}.
 * A padding query attends to nothing (its output is zero): it carries no label and no real query
 * attends to it, so the loss and the gradients do not depend on it.
 */
final class AttentionBlock {
    private final Dense q, k, v, o;
    private final int heads, kvHeads, headDim;
    private final double scale;
    private final Rotary rotary; // null when positions enter elsewhere (OPT)
    private final int window;    // keys j with i - j >= window are masked; Integer.MAX_VALUE when none

    record Saved(double[] q, double[] k, double[] v, double[] probs, double[] output) {
    }

    AttentionBlock(Dense q, Dense k, Dense v, Dense o, int heads, int kvHeads, int headDim, double scale, Rotary rotary, int window) {
        if (heads % kvHeads != 0) throw new IllegalArgumentException(heads + " attention heads are not a multiple of " + kvHeads + " key/value heads");
        this.q = q;
        this.k = k;
        this.v = v;
        this.o = o;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.scale = scale;
        this.rotary = rotary;
        this.window = window;
    }

    /** x [rows, width] -> output [rows, width]. */
    Saved forward(double[] x, Batch batch) {
        int rows = batch.rows(), T = batch.tokens(), qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads;
        double[] qs = q.forward(x, rows), ks = k.forward(x, rows), vs = v.forward(x, rows);
        if (rotary != null)
            for (int r = 0; r < rows; r++) {
                rotary.rotate(qs, r * qw, heads, batch.positions()[r], false);
                rotary.rotate(ks, r * kw, kvHeads, batch.positions()[r], false);
            }
        double[] probs = new double[batch.batch() * heads * T * T];
        double[] context = new double[rows * qw];
        IntStream.range(0, batch.batch() * heads).parallel().forEach(bh -> {
            int b = bh / heads, h = bh % heads, kh = h / group;
            double[] scores = new double[T];
            for (int i = 0; i < T; i++) {
                if (!batch.real(b, i)) continue;
                int qo = (b * T + i) * qw + h * headDim, po = (bh * T + i) * T;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    if (!visible(batch, b, i, j)) continue;
                    int ko = (b * T + j) * kw + kh * headDim;
                    double s = 0;
                    for (int d = 0; d < headDim; d++) s += qs[qo + d] * ks[ko + d];
                    scores[j] = s * scale;
                    max = Math.max(max, scores[j]);
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) {
                    if (!visible(batch, b, i, j)) continue;
                    double e = Math.exp(scores[j] - max);
                    probs[po + j] = e;
                    sum += e;
                }
                for (int j = 0; j <= i; j++) {
                    double p = probs[po + j] /= sum;
                    if (p == 0) continue;
                    int vo = (b * T + j) * kw + kh * headDim;
                    for (int d = 0; d < headDim; d++) context[qo + d] += p * vs[vo + d];
                }
            }
        });
        return new Saved(qs, ks, vs, probs, o.forward(context, rows));
    }

    /** dOut [rows, width] -> dx [rows, width]. */
    double[] backward(Saved saved, double[] dOut, Batch batch) {
        int rows = batch.rows(), T = batch.tokens(), qw = heads * headDim, kw = kvHeads * headDim, group = heads / kvHeads;
        double[] dContext = o.backward(dOut, rows);
        double[] dq = new double[rows * qw], dk = new double[rows * kw], dv = new double[rows * kw];
        double[] qs = saved.q, ks = saved.k, vs = saved.v, probs = saved.probs;
        // one task per (row, key/value head): the query heads of a group all add into its dk, dv
        IntStream.range(0, batch.batch() * kvHeads).parallel().forEach(bk -> {
            int b = bk / kvHeads, kh = bk % kvHeads;
            double[] dp = new double[T];
            for (int h = kh * group; h < (kh + 1) * group; h++) {
                int bh = b * heads + h;
                for (int i = 0; i < T; i++) {
                    if (!batch.real(b, i)) continue;
                    int qo = (b * T + i) * qw + h * headDim, po = (bh * T + i) * T;
                    double dot = 0;
                    for (int j = 0; j <= i; j++) {
                        double p = probs[po + j];
                        if (p == 0) { dp[j] = 0; continue; }
                        int vo = (b * T + j) * kw + kh * headDim;
                        double s = 0;
                        for (int d = 0; d < headDim; d++) {
                            s += dContext[qo + d] * vs[vo + d];
                            dv[vo + d] += p * dContext[qo + d];
                        }
                        dp[j] = s;
                        dot += p * s;
                    }
                    for (int j = 0; j <= i; j++) {
                        double p = probs[po + j];
                        if (p == 0) continue;
                        double ds = p * (dp[j] - dot) * scale;
                        int ko = (b * T + j) * kw + kh * headDim;
                        for (int d = 0; d < headDim; d++) {
                            dq[qo + d] += ds * ks[ko + d];
                            dk[ko + d] += ds * qs[qo + d];
                        }
                    }
                }
            }
        });
        if (rotary != null)
            for (int r = 0; r < rows; r++) {
                rotary.rotate(dq, r * qw, heads, batch.positions()[r], true);
                rotary.rotate(dk, r * kw, kvHeads, batch.positions()[r], true);
            }
        double[] dx = q.backward(dq, rows);
        k.backward(dk, rows, dx);
        v.backward(dv, rows, dx);
        return dx;
    }

    /** Doubles a {@link Saved} holds: q, k, v, the probabilities and the output. */
    long savedDoubles(Batch batch) {
        long rows = batch.rows(), T = batch.tokens();
        return rows * (heads + 2L * kvHeads) * headDim + (long) batch.batch() * heads * T * T + rows * o.out;
    }

    private boolean visible(Batch batch, int b, int i, int j) {
        return batch.real(b, j) && i - j < window;
    }
}
