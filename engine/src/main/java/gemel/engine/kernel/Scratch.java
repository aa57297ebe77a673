package gemel.engine.kernel;

/**
 * A float array per thread, grown to the largest size asked for and then reused: the packing buffers
 * of the products, which would otherwise be allocated anew on every call.
 */
final class Scratch {
    private final ThreadLocal<float[]> held = ThreadLocal.withInitial(() -> new float[0]);

    /** This thread's array, at least {@code size} long; it holds whatever its last use left. */
    float[] floats(int size) {
        float[] s = held.get();
        if (s.length < size) {
            s = new float[size];
            held.set(s);
        }
        return s;
    }
}
