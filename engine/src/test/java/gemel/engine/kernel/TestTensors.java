package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Random;

/** Builds in-memory tensors in any stored dtype for tests, and random data for them. */
public final class TestTensors {
    private TestTensors() {}

    /** A tensor holding {@code values} rounded to {@code dtype}, stored little-endian in native memory at an odd byte offset. */
    public static TensorView of(String name, DType dtype, float[] values, long... shape) {
        int size = dtype.bytes();
        byte[] bytes = new byte[1 + values.length * size]; // one leading byte: reads must not rely on alignment
        for (int i = 0; i < values.length; i++) {
            long bits = switch (dtype) {
                case F32 -> Float.floatToRawIntBits(values[i]);
                case F16 -> Float.floatToFloat16(values[i]);
                case BF16 -> toBfloat16(values[i]);
            };
            for (int b = 0; b < size; b++) bytes[1 + i * size + b] = (byte) (bits >>> (8 * b));
        }
        // native memory, as a memory-mapped checkpoint is: the kernels' fast paths are the ones tested
        MemorySegment data = Arena.ofAuto().allocate(bytes.length).copyFrom(MemorySegment.ofArray(bytes)).asSlice(1);
        return new TensorView(name, Path.of("memory"), dtype, shape, data);
    }

    /** Rounds to the nearest bfloat16, ties to even, as torch does. */
    public static short toBfloat16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    public static float[] gaussian(Random random, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (random.nextGaussian() * scale);
        return a;
    }

    /** Largest |a - b| over the arrays' first n entries. */
    public static float maxAbsDiff(float[] a, float[] b, int n) {
        float m = 0;
        for (int i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
