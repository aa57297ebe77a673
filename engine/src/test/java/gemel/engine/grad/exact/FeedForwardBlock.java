package gemel.engine.grad.exact;

/**
 * The position-wise MLP. OPT: {@code fc2(relu(fc1(x)))}; Llama family (SwiGLU):
 * {@code down(silu(gate(x)) * up(x))}. Forward saves the pre-activations.
 */
final class FeedForwardBlock {
    private final Dense in;   // fc1 or gate_proj
    private final Dense up;   // up_proj, null for ReLU
    private final Dense out;  // fc2 or down_proj

    record Saved(double[] pre, double[] up, double[] output) {
    }

    private FeedForwardBlock(Dense in, Dense up, Dense out) {
        this.in = in;
        this.up = up;
        this.out = out;
    }

    static FeedForwardBlock relu(Dense fc1, Dense fc2) { return new FeedForwardBlock(fc1, null, fc2); }

    static FeedForwardBlock swiGlu(Dense gate, Dense up, Dense down) { return new FeedForwardBlock(gate, up, down); }

    Saved forward(double[] x, int rows) {
        double[] pre = in.forward(x, rows);
        double[] u = up == null ? null : up.forward(x, rows);
        double[] hidden = new double[pre.length];
        for (int i = 0; i < pre.length; i++)
            hidden[i] = u == null ? Math.max(0, pre[i]) : pre[i] * sigmoid(pre[i]) * u[i];
        return new Saved(pre, u, out.forward(hidden, rows));
    }

    double[] backward(Saved saved, double[] dOut, int rows) {
        double[] dHidden = out.backward(dOut, rows);
        double[] dPre = new double[dHidden.length];
        double[] dUp = up == null ? null : new double[dHidden.length];
        for (int i = 0; i < dHidden.length; i++) {
            double a = saved.pre[i];
            if (up == null) {
                dPre[i] = a > 0 ? dHidden[i] : 0;
            } else {
                double s = sigmoid(a);
                dPre[i] = dHidden[i] * saved.up[i] * s * (1 + a * (1 - s)); // d silu(a) / da
                dUp[i] = dHidden[i] * a * s;
            }
        }
        double[] dx = in.backward(dPre, rows);
        if (up != null) up.backward(dUp, rows, dx);
        return dx;
    }

    /** Doubles a {@link Saved} holds for {@code rows} rows. */
    long savedDoubles(long rows) {
        return rows * ((up == null ? 1 : 2L) * in.out + out.out);
    }

    private static double sigmoid(double x) { return 1 / (1 + Math.exp(-x)); }
}
