package gemel.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Elementwise activations by their Hugging Face names ({@code hidden_act}, {@code activation_function}). */
public enum Activation {
    RELU,
    SILU,
    /** The exact GELU: x * Phi(x) with the error function. */
    GELU,
    /** CLIP's approximation: x * sigmoid(1.702 x). */
    QUICK_GELU,
    /** The tanh approximation (HF {@code gelu_new}, {@code gelu_pytorch_tanh}). */
    GELU_TANH;

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** The activation HF calls {@code name}; any other name is an error naming it and {@code where}. */
    public static Activation fromHf(String name, String where) {
        return switch (name) {
            case "relu" -> RELU;
            case "silu", "swish" -> SILU;
            case "gelu" -> GELU;
            case "quick_gelu" -> QUICK_GELU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_TANH;
            default -> throw new IllegalArgumentException(where + ": unsupported activation \"" + name
                    + "\" (gemel knows relu, silu, gelu, quick_gelu, gelu_new, gelu_pytorch_tanh)");
        };
    }

    public float apply(float x) {
        return switch (this) {
            case RELU -> Math.max(x, 0f);
            case SILU -> (float) (x / (1 + Math.exp(-x)));
            case GELU -> (float) (0.5 * x * (1 + Erf.erf(x / Math.sqrt(2))));
            case QUICK_GELU -> (float) (x / (1 + Math.exp(-1.702 * x)));
            case GELU_TANH -> (float) (0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))));
        };
    }

    /**
     * Applies the activation to x[off .. off + n) in place. The sigmoid-based ones run as vectors (an
     * MLP of a 7B model calls them on tens of millions of values per prompt); {@link #applyScalar} is the twin.
     */
    public void apply(float[] x, int off, int n) {
        int i = 0;
        if (this == SILU || this == QUICK_GELU) {
            float k = this == SILU ? -1f : -1.702f; // x * sigmoid(-k x) = x / (1 + exp(k x))
            for (int end = F.loopBound(n); i < end; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, off + i);
                v.div(Exponential.exp(v.mul(k)).add(1f)).intoArray(x, off + i);
            }
            // the tail rounds as the lanes do, so a value's result does not depend on where it sits
            for (; i < n; i++) x[off + i] = x[off + i] / (Exponential.expScalar(x[off + i] * k) + 1f);
        }
        for (; i < n; i++) x[off + i] = apply(x[off + i]);
    }

    public void applyScalar(float[] x, int off, int n) {
        for (int i = off; i < off + n; i++) x[i] = apply(x[i]);
    }

}
