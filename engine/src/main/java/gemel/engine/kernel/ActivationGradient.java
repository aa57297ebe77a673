package gemel.engine.kernel;

/**
 * Backward of the MLP activations a training pass supports: ReLU (OPT) and SiLU (the Llama family's
 * gated MLP). Any other activation is an error naming it. SiLU's slope stays scalar on purpose: the
 * Vector API's exp rounds differently in interpreted and compiled code, so a vector version would
 * make a resumed training run drift from an uninterrupted one.
 */
public final class ActivationGradient {

    private ActivationGradient() {}

    /** The activations {@link #plain} and {@link #gated} accept; others are refused up front, naming {@code where}. */
    public static void requireSupported(Activation a, String where) {
        if (a != Activation.RELU && a != Activation.SILU)
            throw new IllegalArgumentException(where + ": activation " + a + " has no gradient in gemel (only relu and silu)");
    }

    /** {@code h = act(pre)}: d[i] (dh on entry) becomes dpre = dh * act'(pre), for i in [0, n). */
    public static void plain(Activation a, float[] pre, float[] d, int n) {
        requireSupported(a, "plain MLP");
        for (int i = 0; i < n; i++) d[i] *= slope(a, pre[i]);
    }

    /** {@code h = act(gate) * up}: given dh in d[0, n), writes dgate into d and dup into dUp. */
    public static void gated(Activation a, float[] gate, float[] up, float[] d, float[] dUp, int n) {
        requireSupported(a, "gated MLP");
        for (int i = 0; i < n; i++) {
            float g = gate[i], dh = d[i];
            dUp[i] = dh * a.apply(g);
            d[i] = dh * up[i] * slope(a, g);
        }
    }

    /** relu' = [x > 0]; silu' = s * (1 + x * (1 - s)) with s = sigmoid(x). */
    private static float slope(Activation a, float x) {
        if (a == Activation.RELU) return x > 0 ? 1 : 0;
        double s = 1 / (1 + Math.exp(-x));
        return (float) (s * (1 + x * (1 - s)));
    }
}
