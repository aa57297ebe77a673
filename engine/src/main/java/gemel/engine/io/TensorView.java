package gemel.engine.io;

import gemel.engine.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One stored tensor viewed in place: {@code data} is a slice of a memory-mapped file (or of heap
 * memory), little-endian, in the stored dtype, row-major over {@code shape}. Reads convert to fp32.
 */
public record TensorView(String name, Path file, DType dtype, long[] shape, MemorySegment data) {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public TensorView {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException(file + ": tensor " + name + " has a negative dimension " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        if (data.byteSize() != n * dtype.bytes())
            throw new IllegalArgumentException(file + ": tensor " + name + " shape " + Arrays.toString(shape) + " " + dtype
                    + " needs " + n * dtype.bytes() + " bytes but has " + data.byteSize());
    }

    public long elementCount() { return data.byteSize() / dtype.bytes(); }

    public int rank() { return shape.length; }

    /** Dimension {@code i} as an int (all engine shapes fit). */
    public int dim(int i) { return Math.toIntExact(shape[i]); }

    /** Element {@code index} (flat, row-major) as fp32. */
    public float get(long index) {
        return switch (dtype) {
            case F32 -> data.get(F32, index * 4);
            case F16 -> Float.float16ToFloat(data.get(U16, index * 2));
            case BF16 -> Float.intBitsToFloat((data.get(U16, index * 2) & 0xffff) << 16);
        };
    }

    /** Converts {@code count} elements starting at flat index {@code from} into {@code dst[dstOff..]}. */
    public void copyTo(long from, float[] dst, int dstOff, int count) {
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32, from * 4, dst, dstOff, count);
            return;
        }
        for (int i = 0; i < count; i++) dst[dstOff + i] = get(from + i);
    }

    /** The whole tensor as a fresh fp32 array (for small tensors: norms, biases). */
    public float[] toFloats() {
        float[] out = new float[Math.toIntExact(elementCount())];
        copyTo(0, out, 0, out.length);
        return out;
    }

    /** Throws an error naming the tensor unless its shape is exactly {@code expected}. */
    public TensorView requireShape(long... expected) {
        if (!Arrays.equals(shape, expected))
            throw new IllegalArgumentException(file + ": tensor " + name + " has shape " + Arrays.toString(shape)
                    + ", the config implies " + Arrays.toString(expected));
        return this;
    }

    @Override
    public String toString() { return name + " " + dtype + Arrays.toString(shape); }
}
