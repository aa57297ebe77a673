package gemel.train;

/**
 * Clipping by the global L2 norm over all gradients, as {@code torch.nn.utils.clip_grad_norm_}:
 * when the norm exceeds {@code maxNorm} every gradient is scaled by {@code maxNorm / (norm + 1e-6)}.
 */
public final class GradientClipping {
    private GradientClipping() {
    }

    /** Clips {@code grads} in place and returns the norm they had before. */
    public static double clip(float[][] grads, double maxNorm) {
        double sum = 0;
        for (float[] g : grads) for (float x : g) sum += (double) x * x;
        double norm = Math.sqrt(sum);
        double coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1) for (float[] g : grads) for (int i = 0; i < g.length; i++) g[i] = (float) (g[i] * coefficient);
        return norm;
    }
}
