package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Converts runs of a stored tensor (F32, F16, BF16) to fp32 with vector instructions. The scalar
 * twin is {@link TensorView#copyTo}, which tests use as the oracle.
 */
public final class StoredFloats {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    // as many 16-bit lanes as F has float lanes
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final float HALF_EXPONENT_SHIFT = 0x1p112f; // 2^(127 - 15): rebias a half exponent placed in a float

    private StoredFloats() {}

    /** Writes elements [from, from + count) of {@code t} (flat, row-major) as fp32 into {@code dst[dstOff..]}. */
    public static void read(TensorView t, long from, float[] dst, int dstOff, int count) {
        switch (t.dtype()) {
            case F32 -> t.copyTo(from, dst, dstOff, count);
            case F16 -> {
                int done = halfToFloat(t.data(), from * 2, dst, dstOff, count);
                t.copyTo(from + done, dst, dstOff + done, count - done);
            }
            case BF16 -> {
                int done = bfloatToFloat(t.data(), from * 2, dst, dstOff, count);
                t.copyTo(from + done, dst, dstOff + done, count - done);
            }
        }
    }

    /** Converts whole vectors' worth of halves; returns how many (the tail is left to the caller). */
    private static int halfToFloat(MemorySegment data, long byteOff, float[] dst, int dstOff, int count) {
        int n = 0;
        for (int end = F.loopBound(count); n < end; n += F.length()) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(S, data, byteOff + 2L * n, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
            IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
            IntVector half = bits.and(0x7fff);
            IntVector magnitude = half.lanewise(VectorOperators.LSHL, 13);
            // exponent and mantissa land in the float's fields; one multiply rebiases (subnormals included)
            IntVector value = magnitude.reinterpretAsFloats().mul(HALF_EXPONENT_SHIFT).reinterpretAsInts();
            VectorMask<Integer> infOrNan = half.compare(VectorOperators.GE, 0x7c00);
            VectorMask<Integer> nan = half.compare(VectorOperators.GT, 0x7c00);
            value = value.blend(magnitude.or(0x7f800000), infOrNan).blend(magnitude.or(0x7fc00000), nan).or(sign); // NaNs come out quiet
            value.reinterpretAsFloats().intoArray(dst, dstOff + n);
        }
        return n;
    }

    private static int bfloatToFloat(MemorySegment data, long byteOff, float[] dst, int dstOff, int count) {
        int n = 0;
        for (int end = F.loopBound(count); n < end; n += F.length()) {
            IntVector bits = (IntVector) ShortVector.fromMemorySegment(S, data, byteOff + 2L * n, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
            bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOff + n);
        }
        return n;
    }
}
