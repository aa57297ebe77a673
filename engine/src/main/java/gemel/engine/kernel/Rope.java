package gemel.engine.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import gemel.engine.config.HfConfig;

/**
 * Rotary position embedding in the rotate-half convention of Hugging Face checkpoints: within a
 * head, dimension i pairs with i + headDim/2 and both turn by position * invFreq[i].
 */
public final class Rope {
    private final int headDim;
    private final float[] invFreq; // [headDim / 2]

    public Rope(int headDim, float[] invFreq) {
        if (headDim % 2 != 0 || invFreq.length != headDim / 2)
            throw new IllegalArgumentException("rope: head dim " + headDim + " with " + invFreq.length + " frequencies");
        this.headDim = headDim;
        this.invFreq = invFreq.clone();
    }

    /** Frequencies base^(-2i/headDim), as HF's default rope. */
    public static float[] defaultFrequencies(int headDim, double theta) {
        float[] f = new float[headDim / 2];
        for (int i = 0; i < f.length; i++) f[i] = (float) (1 / Math.pow(theta, (double) (2 * i) / headDim));
        return f;
    }

    /** Reads {@code rope_theta} and {@code rope_scaling} (none, "default", "linear", "llama3"); other types are errors. */
    public static Rope fromConfig(HfConfig config, int headDim) {
        float[] f = defaultFrequencies(headDim, config.number("rope_theta", 10000));
        JsonNode scaling = config.json().get("rope_scaling");
        if (scaling == null || scaling.isNull()) return new Rope(headDim, f);
        HfConfig s = config.sub("rope_scaling");
        String type = s.string("rope_type", s.string("type", "default"));
        switch (type) {
            case "default" -> { }
            case "linear" -> {
                double factor = s.number("factor");
                for (int i = 0; i < f.length; i++) f[i] = (float) (f[i] / factor);
            }
            case "llama3" -> llama3(f, s.number("factor"), s.number("low_freq_factor"), s.number("high_freq_factor"),
                    s.integer("original_max_position_embeddings"));
            default -> throw new IllegalArgumentException(config.file() + ": unsupported rope_scaling type \"" + type
                    + "\" (gemel knows default, linear, llama3)");
        }
        return new Rope(headDim, f);
    }

    /**
     * Llama 3.1's scaling: long wavelengths (beyond the original context / lowFreqFactor) slow down by
     * factor, short ones (below context / highFreqFactor) stay, and the band between blends the two.
     */
    private static void llama3(float[] f, double factor, double lowFreqFactor, double highFreqFactor, int originalContext) {
        double lowFreqWavelen = originalContext / lowFreqFactor;
        double highFreqWavelen = originalContext / highFreqFactor;
        for (int i = 0; i < f.length; i++) {
            double wavelen = 2 * Math.PI / f[i];
            if (wavelen > lowFreqWavelen) {
                f[i] = (float) (f[i] / factor);
            } else if (wavelen >= highFreqWavelen) {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                f[i] = (float) ((1 - smooth) * f[i] / factor + smooth * f[i]);
            }
        }
    }

    public int headDim() { return headDim; }

    public float[] frequencies() { return invFreq.clone(); }

    /**
     * Rotates {@code heads} consecutive heads of x, starting at {@code off}, to {@code position}.
     * The angle is formed in fp32 as HF does (position * invFreq), then its cosine and sine.
     */
    public void apply(float[] x, int off, int heads, int position) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float angle = position * invFreq[i];
            float cos = (float) Math.cos(angle), sin = (float) Math.sin(angle);
            for (int h = 0; h < heads; h++) {
                int a = off + h * headDim + i, b = a + half;
                float x1 = x[a], x2 = x[b];
                x[a] = x1 * cos - x2 * sin;
                x[b] = x2 * cos + x1 * sin;
            }
        }
    }
}
