package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class StoredFloatsTest {

    /** Every 16-bit pattern once, little-endian, one byte in so no read relies on alignment; in native or heap memory. */
    private static TensorView allPatterns(DType dtype, boolean heap) {
        byte[] bytes = new byte[1 + 2 * 65536];
        for (int p = 0; p < 65536; p++) {
            bytes[1 + 2 * p] = (byte) p;
            bytes[2 + 2 * p] = (byte) (p >>> 8);
        }
        MemorySegment data = heap ? MemorySegment.ofArray(bytes) : Arena.ofAuto().allocate(bytes.length).copyFrom(MemorySegment.ofArray(bytes));
        return new TensorView("all", Path.of("memory"), dtype, new long[] {65536}, data.asSlice(1));
    }

    private static void assertSame(float expected, float actual, String what) {
        if (Float.isNaN(expected)) assertTrue(Float.isNaN(actual), what + ": " + actual + " for a NaN");
        else assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual), what + ": " + actual + " for " + expected);
    }

    @Test
    void everyHalfAndBfloat16PatternConvertsExactly() {
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) for (boolean heap : new boolean[] {false, true}) {
            TensorView w = allPatterns(dtype, heap);
            float[] fast = new float[65536];
            for (int round = 0; round < 30; round++) StoredFloats.copy(w, 0, fast, 0, 65536); // compiled, not only interpreted
            for (int p = 0; p < 65536; p++) {
                // the oracle: Java's own conversions of the bit pattern
                float expected = dtype == DType.F16 ? Float.float16ToFloat((short) p) : Float.intBitsToFloat(p << 16);
                assertSame(expected, fast[p], dtype + (heap ? " heap" : "") + " pattern 0x" + Integer.toHexString(p));
            }
        }
    }

    /**
     * The decode kernels' widening reads each half as a normal one: exact for every finite f16 with a nonzero exponent;
     * zeros and subnormals, m 2^-24 for a mantissa m, come out as (1 + m / 1024) 2^-15 (the excess the kernels take back),
     * never an fp32 subnormal; infinities and NaNs, which the kernels are not given, as 2^16 or more. The scalar twin agrees.
     */
    @Test
    void halvesWidenedInRegistersAreExactOrOffByTheImplicitOne() {
        TensorView w = allPatterns(DType.F16, false);
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        for (int round = 0; round < 30; round++) { // compiled, not only interpreted
            for (int p = 0; p < 65536; p += lanes) {
                float[] widened = StoredFloats.halfAsNormal(w.data(), 2L * p).toArray();
                if (round < 29) continue;
                for (int k = 0; k < lanes; k++) {
                    int bits = p + k;
                    float expected = Float.float16ToFloat((short) bits), value = widened[k];
                    String what = "pattern 0x" + Integer.toHexString(bits);
                    assertTrue(Math.abs(value) >= Float.MIN_NORMAL, what + " widened to " + value);
                    assertSame(StoredFloats.halfAsNormal((short) bits), value, what + " (the scalar twin)");
                    if ((bits & 0x7c00) == 0) assertSame(Math.copySign(0x1p-15f + Math.abs(expected) / 2, expected), value, what);
                    else if (Float.isFinite(expected)) assertSame(expected, value, what);
                    else assertTrue(Float.isFinite(value) && Math.abs(value) >= 0x1p16f, what + ": " + value);
                }
            }
        }
    }

    @Test
    void unalignedRunsAndTailsMatchTheScalarTwin() {
        Random random = new Random(4);
        for (DType dtype : DType.values()) {
            TensorView w = TestTensors.of("w", dtype, TestTensors.gaussian(random, 300, 3), 300);
            for (int trial = 0; trial < 200; trial++) {
                int from = random.nextInt(300), count = random.nextInt(301 - from), off = random.nextInt(7);
                float[] fast = new float[off + count], slow = new float[off + count];
                StoredFloats.copy(w, from, fast, off, count);
                StoredFloats.copyScalar(w, from, slow, off, count);
                for (int i = 0; i < off + count; i++) assertSame(slow[i], fast[i], dtype + " from " + from + " count " + count + " at " + i);
            }
        }
    }
}
