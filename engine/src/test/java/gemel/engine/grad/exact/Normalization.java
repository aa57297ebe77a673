package gemel.engine.grad.exact;

/** A per-row normalization (LayerNorm, RMSNorm): forward saves its statistics, backward gives dx. */
interface Normalization {

    /** What backward needs: the input, per-row statistics ({@code mean} null for RMSNorm) and the output. */
    record Saved(double[] x, double[] mean, double[] rstd, double[] y) {
    }

    Saved forward(double[] x, int rows);

    double[] backward(Saved saved, double[] dy, int rows);
}
