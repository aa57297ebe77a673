package gemel.engine.model;

/**
 * The arrays one layer of a forward call writes its intermediate results into (normed inputs, q, k, v, ...),
 * kept for the next layer: every layer of a call has the same shapes, so each array is allocated by the first
 * and written over by the rest. Allocated anew by every layer, they were zeroed by the calling thread while the
 * other cores waited: in OPT-125m's 1,536-token prompts that was 3.8 % of the calling thread's time.
 * One call's, never shared between calls (two threads may run forward calls on one model at once).
 */
final class LayerScratch {
    static final int NORMED = 0, Q = 1, K = 2, V = 3, ATTENDED = 4, PROJECTED = 5, INNER = 6, INNER_2 = 7;
    private final float[][] arrays = new float[INNER_2 + 1][]; // one per slot

    /** The array of {@code slot} with {@code length} floats, holding whatever its last user wrote: the caller writes all of it. */
    float[] get(int slot, int length) {
        float[] a = arrays[slot];
        if (a == null || a.length != length) arrays[slot] = a = new float[length];
        return a;
    }
}
