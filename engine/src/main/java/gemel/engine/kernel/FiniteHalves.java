package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Whether an F16 weight holds only finite values, which {@link StreamingProduct} needs to widen it in
 * registers (see {@link StoredFloats#halfScaledDown}). Each weight's memory is scanned once, on its first
 * decode product, and the answer kept for as long as that memory is in use: keyed by the segment, whose
 * equality is its address and size.
 */
final class FiniteHalves {
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int EXPONENT = 0x7c00;
    private static final long PIECE_BYTES = 1 << 20; // scanned per parallel piece
    private static final Map<MemorySegment, Boolean> KNOWN = Collections.synchronizedMap(new WeakHashMap<>());

    private FiniteHalves() {}

    /** True if no value of the F16 weight {@code w} is an infinity or a NaN. */
    static boolean allFinite(TensorView w) {
        if (w.dtype() != DType.F16) throw new IllegalArgumentException(w + " is not F16");
        MemorySegment data = w.data();
        Boolean known = KNOWN.get(data);
        if (known == null) {
            known = scan(data);
            KNOWN.put(data, known);
        }
        return known;
    }

    /** Scans in pieces on all cores. */
    private static boolean scan(MemorySegment data) {
        long bytes = data.byteSize();
        int pieces = (int) ((bytes + PIECE_BYTES - 1) / PIECE_BYTES);
        AtomicBoolean finite = new AtomicBoolean(true);
        Parallel.forEach(pieces, p -> {
            long from = p * PIECE_BYTES;
            if (!finite(data, from, Math.min(bytes, from + PIECE_BYTES))) finite.set(false);
        });
        return finite.get();
    }

    /**
     * True if no half in bytes [from, to) has the all-ones exponent of infinities and NaNs. Adding one
     * to the exponent carries into the sign bit only from all ones, so one or over the piece tells.
     */
    static boolean finite(MemorySegment data, long from, long to) {
        long at = from;
        if (data.isNative()) { // vector loads from heap memory are slower than one at a time (see StoredFloats)
            ShortVector carries = ShortVector.zero(S);
            for (long end = from + (to - from) / S.vectorByteSize() * S.vectorByteSize(); at < end; at += S.vectorByteSize()) {
                ShortVector h = ShortVector.fromMemorySegment(S, data, at, ByteOrder.LITTLE_ENDIAN);
                carries = carries.or(h.and((short) EXPONENT).add((short) 0x400));
            }
            if (carries.reduceLanes(VectorOperators.OR) < 0) return false;
        }
        for (; at < to; at += 2) {
            if ((data.get(U16, at) & EXPONENT) == EXPONENT) return false;
        }
        return true;
    }
}
