package gemel.engine.grad.exact;

import gemel.engine.grad.Batch;

/**
 * One transformer block with residuals. Pre-norm (OPT, Llama family):
 * {@code h = x + attn(n1(x)); out = h + mlp(n2(h))}. Post-norm (OPT-350m, {@code do_layer_norm_before
 * = false}): {@code h = n1(x + attn(x)); out = n2(h + mlp(h))}. Backward mirrors forward line by line.
 */
final class DecoderLayer {
    private final Normalization attentionNorm, mlpNorm;
    private final AttentionBlock attention;
    private final FeedForwardBlock mlp;
    private final boolean preNorm;
    private final int width;

    record Saved(Normalization.Saved n1, AttentionBlock.Saved attention, Normalization.Saved n2, FeedForwardBlock.Saved mlp, double[] output) {
    }

    DecoderLayer(Normalization attentionNorm, AttentionBlock attention, Normalization mlpNorm, FeedForwardBlock mlp, boolean preNorm, int width) {
        this.attentionNorm = attentionNorm;
        this.attention = attention;
        this.mlpNorm = mlpNorm;
        this.mlp = mlp;
        this.preNorm = preNorm;
        this.width = width;
    }

    /** x [rows, width] -> output [rows, width]. */
    Saved forward(double[] x, Batch batch) {
        int rows = batch.rows();
        if (preNorm) {
            Normalization.Saved n1 = attentionNorm.forward(x, rows);
            AttentionBlock.Saved a = attention.forward(n1.y(), batch);
            double[] h = add(x, a.output());
            Normalization.Saved n2 = mlpNorm.forward(h, rows);
            FeedForwardBlock.Saved f = mlp.forward(n2.y(), rows);
            return new Saved(n1, a, n2, f, add(h, f.output()));
        }
        AttentionBlock.Saved a = attention.forward(x, batch);
        Normalization.Saved n1 = attentionNorm.forward(add(x, a.output()), rows);
        FeedForwardBlock.Saved f = mlp.forward(n1.y(), rows);
        Normalization.Saved n2 = mlpNorm.forward(add(n1.y(), f.output()), rows);
        return new Saved(n1, a, n2, f, n2.y());
    }

    /** dOut [rows, width] -> dx [rows, width]. */
    double[] backward(Saved s, double[] dOut, Batch batch) {
        int rows = batch.rows();
        if (preNorm) {
            double[] dh = add(dOut, mlpNorm.backward(s.n2(), mlp.backward(s.mlp(), dOut, rows), rows));
            return add(dh, attentionNorm.backward(s.n1(), attention.backward(s.attention(), dh, batch), rows));
        }
        double[] dr2 = mlpNorm.backward(s.n2(), dOut, rows);
        double[] dh = add(dr2, mlp.backward(s.mlp(), dr2, rows));
        double[] dr1 = attentionNorm.backward(s.n1(), dh, rows);
        return add(dr1, attention.backward(s.attention(), dr1, batch));
    }

    /** Doubles a {@link Saved} holds: both norms' input and output, the attention's and the MLP's saved tensors, the output. */
    long savedDoubles(Batch batch) {
        long rows = batch.rows();
        return 5 * rows * width + attention.savedDoubles(batch) + mlp.savedDoubles(rows);
    }

    private static double[] add(double[] a, double[] b) {
        double[] c = new double[a.length];
        for (int i = 0; i < a.length; i++) c[i] = a[i] + b[i];
        return c;
    }
}
