package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StoredFloatsTest {

    /** Every 16-bit pattern, stored at an odd offset, converts exactly as the scalar reader does. */
    private static void checkAllPatterns(DType dtype) {
        int n = 1 << 16;
        byte[] bytes = new byte[3 + 2 * n];
        for (int i = 0; i < n; i++) {
            bytes[3 + 2 * i] = (byte) i;
            bytes[4 + 2 * i] = (byte) (i >>> 8);
        }
        TensorView t = new TensorView("all", Path.of("memory"), dtype, new long[] {n}, MemorySegment.ofArray(bytes).asSlice(3));
        for (int from : new int[] {0, 1, 7}) {
            float[] got = new float[n - from];
            StoredFloats.read(t, from, got, 0, got.length);
            for (int i = 0; i < got.length; i++)
                assertEquals(Float.floatToRawIntBits(t.get(from + i)), Float.floatToRawIntBits(got[i]),
                        dtype + " pattern 0x" + Integer.toHexString(from + i));
        }
    }

    @Test
    void everyHalfConvertsExactly() { checkAllPatterns(DType.F16); }

    @Test
    void everyBfloatConvertsExactly() { checkAllPatterns(DType.BF16); }

    @Test
    void halvesMatchTheirMeaning() {
        float[] values = {0f, -0f, 1f, -2.5f, 65504f, 6.1035156e-5f /* smallest normal */, 5.9604645e-8f /* smallest subnormal */,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3.140625f, -1e-6f, 1000.5f, 7f, 0.333251953125f, 11f, 13f, 17f};
        TensorView t = TestTensors.of("h", DType.F16, values, values.length);
        float[] got = new float[values.length];
        StoredFloats.read(t, 0, got, 0, values.length);
        for (int i = 0; i < values.length; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(values[i])), got[i], "value " + values[i]);
        assertEquals(5.9604645e-8f, got[6]);
        assertEquals(Float.POSITIVE_INFINITY, got[7]);
    }
}
