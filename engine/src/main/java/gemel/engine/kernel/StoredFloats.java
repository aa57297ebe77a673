package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Converts runs of a stored tensor (F32, F16, BF16) to fp32 a vector at a time, with the exact values
 * of {@link TensorView#get}. Converting one element at a time costs more than reading it from memory,
 * so a decode step (which reads each weight once) would be bound by the conversion instead of the
 * memory. {@link #copyScalar} is the twin.
 */
public final class StoredFloats {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = switch (F.vectorBitSize()) { // F's lane count (a species the JIT sees as a constant)
        case 512 -> ShortVector.SPECIES_256;
        case 256 -> ShortVector.SPECIES_128;
        default -> ShortVector.SPECIES_64;
    };
    private static final int L = F.length();

    private StoredFloats() {}

    /** Converts elements [from, from + count) of w (flat, row-major) into dst[dstOff ..]. */
    public static void copy(TensorView w, long from, float[] dst, int dstOff, int count) {
        if (!w.data().isNative()) {
            // vector loads of shorts from a heap byte[] are not compiled to plain loads (slower than one at a time)
            copyScalar(w, from, dst, dstOff, count);
            return;
        }
        int done = switch (w.dtype()) {
            case F32 -> {
                w.copyTo(from, dst, dstOff, count); // already fp32: a bulk copy
                yield count;
            }
            case BF16 -> fromBfloat16(w.data(), from, dst, dstOff, F.loopBound(count));
            case F16 -> fromHalf(w.data(), from, dst, dstOff, F.loopBound(count));
        };
        for (int i = done; i < count; i++) dst[dstOff + i] = w.get(from + i);
    }

    /** bf16 is the top half of an fp32. Converts n (a multiple of L) elements; returns n. */
    private static int fromBfloat16(MemorySegment data, long from, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i += L) bits(data, from + i).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOff + i);
        return n;
    }

    /** IEEE half precision. Converts n (a multiple of L) elements; returns n. */
    private static int fromHalf(MemorySegment data, long from, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i += L) fromHalf(bits(data, from + i)).intoArray(dst, dstOff + i);
        return n;
    }

    /** The scalar twin of {@link #copy}: one element at a time through {@link TensorView#get}. */
    public static void copyScalar(TensorView w, long from, float[] dst, int dstOff, int count) {
        for (int i = 0; i < count; i++) dst[dstOff + i] = w.get(from + i);
    }

    /** L stored 16-bit values from flat element {@code element}, sign-extended into int lanes (the bits above 16 are shifted or masked away). */
    private static IntVector bits(MemorySegment data, long element) {
        return (IntVector) ShortVector.fromMemorySegment(S, data, element * 2, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, I, 0);
    }

    /** IEEE half-precision bit patterns (in the low 16 bits of each lane) as fp32. */
    private static FloatVector fromHalf(IntVector bits) {
        IntVector sign = bits.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector half = bits.and(0x7fff);
        IntVector magnitude = half.lanewise(VectorOperators.LSHL, 13);
        // exponent and mantissa now sit in the fp32 fields with the half's bias (15, not 127): the value
        // is 2^-112 of the right one, subnormals included, and one exact multiply by 2^112 rebiases it
        IntVector value = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> infOrNan = half.compare(VectorOperators.GE, 0x7c00);
        if (infOrNan.anyTrue()) value = value.blend(magnitude.or(0x7f800000), infOrNan); // all-ones exponent, mantissa kept
        return value.or(sign).reinterpretAsFloats();
    }
}
