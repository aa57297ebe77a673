package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Converts runs of a stored tensor (F32, F16, BF16) to fp32 many elements at a time, with the exact
 * values of {@link TensorView#get}. Converting one element at a time through {@code get} costs more
 * than reading it from memory, so a decode step (which reads each weight once) would be bound by the
 * conversion instead of the memory. {@link #copyScalar} is the twin.
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
    private static final int HALF_REBIAS = (127 - 15) << 23; // fp32's exponent bias less f16's, in the exponent's place
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

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
            case F16 -> fromHalf(w.data(), from, dst, dstOff, count);
        };
        for (int i = done; i < count; i++) dst[dstOff + i] = w.get(from + i);
    }

    /** Converts n (a multiple of L) bf16 elements; returns n. */
    private static int fromBfloat16(MemorySegment data, long from, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i += L) bfloat16(data, (from + i) * 2).intoArray(dst, dstOff + i);
        return n;
    }

    /**
     * The L bf16 values at {@code byteOffset}, widened: bf16 is the top half of an fp32, so they widen
     * to int lanes (sign-extended; the shift drops those bits) and move up 16 bits.
     */
    static FloatVector bfloat16(MemorySegment data, long byteOffset) {
        return shorts(data, byteOffset).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * The L f16 values at {@code byteOffset}, widened in registers by integer operations alone, each read as a normal half:
     * the sign and magnitude bits move to fp32's places and the exponent gains 127 - 15. Exact for every finite half but
     * those with a zero exponent (zeros and subnormals): a mantissa m comes out as (1 + m / 1024) 2^-15, with the
     * implicit one of a normal half, not m 2^-24; the decode kernels take that excess back per row
     * ({@link ZeroExponentHalves}). Infinities and NaNs come out finite, so callers use it only where none was found.
     * Every value comes out normal: a widening that kept subnormal halves subnormal in fp32 cost Intel cores a microcode
     * assist per multiply-add with one (StreamingProduct's class comment has the numbers).
     */
    static FloatVector halfAsNormal(MemorySegment data, long byteOffset) {
        // shifted 13 bits up, the sign-extended lanes hold the sign in bits 28 to 31: keep bit 31 only
        return shorts(data, byteOffset).lanewise(VectorOperators.LSHL, 13).and(0x8FFFFFFF).add(HALF_REBIAS).reinterpretAsFloats();
    }

    /** The scalar twin of {@link #halfAsNormal}: one f16 (its bits) read as a normal half. */
    static float halfAsNormal(short half) {
        return Float.intBitsToFloat(((half & 0x8000) << 16 | (half & 0x7fff) << 13) + HALF_REBIAS);
    }

    /** The L 16-bit values at {@code byteOffset} as sign-extended int lanes. */
    private static IntVector shorts(MemorySegment data, long byteOffset) {
        return (IntVector) ShortVector.fromMemorySegment(S, data, byteOffset, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0);
    }

    /**
     * IEEE half precision, infinities and NaNs included. A plain loop: the JIT compiles
     * {@link Float#float16ToFloat} over a counted loop to the processor's vector conversion, faster than
     * converting exactly by bit operations in vectors ({@link #halfAsNormal} is faster, for finite values only, and
     * leaves zeros and subnormals to be corrected).
     */
    private static int fromHalf(MemorySegment data, long from, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(data.get(U16, (from + i) * 2));
        return n;
    }

    /** The scalar twin of {@link #copy}: one element at a time through {@link TensorView#get}. */
    public static void copyScalar(TensorView w, long from, float[] dst, int dstOff, int count) {
        for (int i = 0; i < count; i++) dst[dstOff + i] = w.get(from + i);
    }
}
