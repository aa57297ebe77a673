package gemel.engine.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * An array read from a {@code .npy} file by {@link NpyFile}: its numpy dtype ({@code descr}:
 * {@code <f4}, {@code <i4} or {@code <i8}), its C-order {@code shape}, and its little-endian bytes
 * on the heap. The typed reads refuse a dtype they would have to guess about.
 */
public record NpyArray(Path file, String descr, long[] shape, MemorySegment data) {
    private static final ValueLayout.OfFloat F4 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I4 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I8 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public int elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return Math.toIntExact(n);
    }

    public int rank() { return shape.length; }

    public int dim(int i) { return Math.toIntExact(shape[i]); }

    /** The values of a {@code <f4} array. */
    public float[] floats() {
        require("<f4", "float32");
        float[] out = new float[elementCount()];
        MemorySegment.copy(data, F4, 0, out, 0, out.length);
        return out;
    }

    /** The values of a {@code <i4} array, or of a {@code <i8} one whose values all fit an int. */
    public int[] ints() {
        int[] out = new int[elementCount()];
        if (descr.equals("<i4")) {
            MemorySegment.copy(data, I4, 0, out, 0, out.length);
            return out;
        }
        require("<i8", "integer");
        for (int i = 0; i < out.length; i++) {
            long v = data.getAtIndex(I8, i);
            if (v != (int) v) throw new IllegalArgumentException(file + ": element " + i + " = " + v + " does not fit a 32-bit int");
            out[i] = (int) v;
        }
        return out;
    }

    /** The values of a {@code <i8} or {@code <i4} array. */
    public long[] longs() {
        long[] out = new long[elementCount()];
        if (descr.equals("<i4")) {
            for (int i = 0; i < out.length; i++) out[i] = data.getAtIndex(I4, i);
            return out;
        }
        require("<i8", "integer");
        MemorySegment.copy(data, I8, 0, out, 0, out.length);
        return out;
    }

    private void require(String wanted, String kind) {
        if (!descr.equals(wanted)) throw new IllegalArgumentException(file + ": holds " + descr + " values, not " + kind + " (" + wanted + ")");
    }

    @Override
    public String toString() { return file + " " + descr + Arrays.toString(shape); }
}
