package gemel.engine.kernel;

/** A per-row normalisation with learned parameters (LayerNorm, RMSNorm). */
public interface Norm {

    /** Normalises each of the {@code rows} rows of {@code x} [rows, width] into {@code out} (may be {@code x}). */
    void apply(float[] x, int rows, float[] out);

    int width();
}
