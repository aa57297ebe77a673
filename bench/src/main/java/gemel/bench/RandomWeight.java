package gemel.bench;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** A random weight matrix in a stored dtype, in native memory, for timing products apart from a model. */
final class RandomWeight {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RandomWeight() {}

    /**
     * [rows, in] of uniform values in [-0.05, 0.05) (about the scale of trained weights), starting {@code offset} bytes
     * past a 64-byte boundary.
     */
    static TensorView of(Arena arena, DType dtype, int rows, int in, int offset, SplittableRandom random) {
        long n = (long) rows * in, bytes = n * dtype.bytes();
        MemorySegment data = arena.allocate(bytes + offset, 64).asSlice(offset, bytes);
        for (long i = 0; i < n; i++) {
            float v = (float) (random.nextDouble() - 0.5) * 0.1f;
            switch (dtype) {
                case F32 -> data.set(F32_LE, 4 * i, v);
                case BF16 -> data.set(U16, 2 * i, (short) (Float.floatToRawIntBits(v) >>> 16));
                case F16 -> data.set(U16, 2 * i, Float.floatToFloat16(v));
            }
        }
        return new TensorView("random [" + rows + ", " + in + "]", Path.of("memory"), dtype, new long[] {rows, in}, data);
    }
}
