package gemel.train;

import java.util.List;

/**
 * AdamW with decoupled weight decay, as {@code torch.optim.AdamW}: each step first shrinks a
 * decayed parameter by {@code lr * weightDecay}, then applies the bias-corrected Adam update
 * {@code p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)}. Moments are float32
 * like PyTorch's; the arithmetic of one element is done in double.
 */
public final class AdamW {

    /** The hyper-parameters (the learning rate comes per step from the schedule). */
    public record Settings(double beta1, double beta2, double eps, double weightDecay) {
        /** The reference's values: torch's betas, eps 1e-6, weight decay 0.01. */
        public static Settings reference() { return new Settings(0.9, 0.999, 1e-6, 0.01); }
    }

    /** Everything a resumed run needs: the step count and both moments of every parameter. */
    public record State(long step, float[][] firstMoments, float[][] secondMoments) {
    }

    private final Settings settings;
    private final List<TrainableParameter> parameters;
    private final float[][] m; // per parameter, same length as its values
    private final float[][] v;
    private long step;

    public AdamW(Settings settings, List<TrainableParameter> parameters) {
        this.settings = settings;
        this.parameters = List.copyOf(parameters);
        this.m = new float[parameters.size()][];
        this.v = new float[parameters.size()][];
        for (int i = 0; i < parameters.size(); i++) {
            m[i] = new float[parameters.get(i).values().length];
            v[i] = new float[parameters.get(i).values().length];
        }
    }

    public Settings settings() { return settings; }

    public List<TrainableParameter> parameters() { return parameters; }

    /** Optimizer steps taken so far. */
    public long step() { return step; }

    /** One update with {@code grads[i]} for parameter {@code i} (same lengths) at learning rate {@code lr}. */
    public void update(float[][] grads, double lr) {
        if (grads.length != parameters.size())
            throw new IllegalArgumentException("AdamW: " + grads.length + " gradients for " + parameters.size() + " parameters");
        step++;
        double b1 = settings.beta1(), b2 = settings.beta2();
        double stepSize = lr / (1 - Math.pow(b1, step));
        double sqrtCorrection2 = Math.sqrt(1 - Math.pow(b2, step));
        for (int p = 0; p < grads.length; p++) {
            TrainableParameter param = parameters.get(p);
            float[] w = param.values(), g = grads[p], mp = m[p], vp = v[p];
            if (g.length != w.length)
                throw new IllegalArgumentException("AdamW: gradient of " + param.name() + " has " + g.length + " values, the parameter " + w.length);
            double shrink = param.decay() ? 1 - lr * settings.weightDecay() : 1;
            for (int i = 0; i < w.length; i++) {
                mp[i] = (float) (b1 * mp[i] + (1 - b1) * g[i]);
                vp[i] = (float) (b2 * vp[i] + (1 - b2) * (double) g[i] * g[i]);
                double denom = Math.sqrt(vp[i]) / sqrtCorrection2 + settings.eps();
                w[i] = (float) (w[i] * shrink - stepSize * mp[i] / denom);
            }
        }
    }

    /** A deep copy of the optimizer state. */
    public State state() {
        float[][] mc = new float[m.length][], vc = new float[v.length][];
        for (int i = 0; i < m.length; i++) {
            mc[i] = m[i].clone();
            vc[i] = v[i].clone();
        }
        return new State(step, mc, vc);
    }

    /** Restores a state saved by {@link #state()} for the same parameters. */
    public void restore(State state) {
        if (state.firstMoments().length != m.length || state.secondMoments().length != v.length)
            throw new IllegalArgumentException("AdamW state holds " + state.firstMoments().length + " parameters, this optimizer " + m.length);
        for (int i = 0; i < m.length; i++) {
            if (state.firstMoments()[i].length != m[i].length || state.secondMoments()[i].length != v[i].length)
                throw new IllegalArgumentException("AdamW state of " + parameters.get(i).name() + " has the wrong size");
            System.arraycopy(state.firstMoments()[i], 0, m[i], 0, m[i].length);
            System.arraycopy(state.secondMoments()[i], 0, v[i], 0, v[i].length);
        }
        step = state.step();
    }
}
