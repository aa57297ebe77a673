package gemel.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Backward of the MLP activations a training pass supports: ReLU (OPT) and SiLU (the Llama family's
 * gated MLP, where it runs on rows * intermediate_size values per layer, hence vectors; the
 * {@code Scalar} twins are the test oracles). Any other activation is an error naming it.
 */
public final class ActivationGradient {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private ActivationGradient() {}

    /** The activations {@link #plain} and {@link #gated} accept; others are refused up front, naming {@code where}. */
    public static void requireSupported(Activation a, String where) {
        if (a != Activation.RELU && a != Activation.SILU)
            throw new IllegalArgumentException(where + ": activation " + a + " has no gradient in gemel (only relu and silu)");
    }

    /** {@code h = act(pre)}: d[i] (dh on entry) becomes dpre = dh * act'(pre), for i in [0, n). */
    public static void plain(Activation a, float[] pre, float[] d, int n) {
        requireSupported(a, "plain MLP");
        if (a == Activation.RELU) {
            for (int i = 0; i < n; i++) if (!(pre[i] > 0)) d[i] = 0;
            return;
        }
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, pre, i), s = sigmoid(x);
            FloatVector.fromArray(F, d, i).mul(s.mul(x.mul(s.neg().add(1f)).add(1f))).intoArray(d, i);
        }
        for (; i < n; i++) d[i] *= siluSlope(pre[i]);
    }

    /**
     * {@code h = act(gate) * up}: given dh in d[0, n), writes dgate into d and dup into dUp.
     */
    public static void gated(Activation a, float[] gate, float[] up, float[] d, float[] dUp, int n) {
        requireSupported(a, "gated MLP");
        int i = 0;
        if (a == Activation.SILU) {
            for (int end = F.loopBound(n); i < end; i += F.length()) {
                FloatVector g = FloatVector.fromArray(F, gate, i), s = sigmoid(g), dh = FloatVector.fromArray(F, d, i);
                dh.mul(g).mul(s).intoArray(dUp, i);
                dh.mul(FloatVector.fromArray(F, up, i)).mul(s.mul(g.mul(s.neg().add(1f)).add(1f))).intoArray(d, i);
            }
        }
        gatedScalar(a, gate, up, d, dUp, i, n);
    }

    /** The scalar twin of {@link #plain}. */
    public static void plainScalar(Activation a, float[] pre, float[] d, int n) {
        requireSupported(a, "plain MLP");
        for (int i = 0; i < n; i++) d[i] *= a == Activation.RELU ? (pre[i] > 0 ? 1 : 0) : siluSlope(pre[i]);
    }

    /** The scalar twin of {@link #gated}. */
    public static void gatedScalar(Activation a, float[] gate, float[] up, float[] d, float[] dUp, int from, int n) {
        requireSupported(a, "gated MLP");
        for (int i = from; i < n; i++) {
            float g = gate[i], dh = d[i];
            dUp[i] = dh * a.apply(g);
            d[i] = dh * up[i] * (a == Activation.RELU ? (g > 0 ? 1 : 0) : siluSlope(g));
        }
    }

    /** d silu(x) / dx = s * (1 + x * (1 - s)), s = sigmoid(x). */
    private static float siluSlope(float x) {
        double s = 1 / (1 + Math.exp(-x));
        return (float) (s * (1 + x * (1 - s)));
    }

    private static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(F, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }
}
