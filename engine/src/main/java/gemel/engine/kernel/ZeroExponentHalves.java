package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * What {@link StreamingProduct} must know of an F16 weight [rows, in] to widen it in registers by
 * {@link StoredFloats#halfAsNormal}: whether every value is finite, and where its halves with a zero exponent (zeros and
 * subnormals, which that widening reads too large in magnitude) are and by how much, so that the products can take the
 * excess back ({@link #subtractExcess}). Real and random weights hold one such half in a few hundred to a thousand. Each
 * weight's memory is scanned once, on its first decode product, and the answer kept while that memory is in use: keyed
 * by the segment (whose equality is its address and size) and checked against the segment's scope, so that a checkpoint
 * mapped later at the same address is scanned afresh.
 */
final class ZeroExponentHalves {
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int EXPONENT = 0x7c00;
    private static final long PIECE_BYTES = 1 << 20; // scanned per parallel piece
    /**
     * At most one half in this many may have a zero exponent for the weight to stream: each costs every token a scalar
     * multiply-add in {@link #subtractExcess}, and 12 bytes kept, at this limit a fifth of the weight's own. A denser
     * weight (a pruned one) takes the panels. At one zero in 33, a [8192, 2048] product streamed in 1.6 (one token) and
     * 2.2 (five) times the time of one without zeros; at one in 31, through the panels, in 2.9 and 4.0 times.
     */
    static final int SPARSE = 32;
    private static final Map<MemorySegment, ZeroExponentHalves> KNOWN = Collections.synchronizedMap(new WeakHashMap<>());

    private final MemorySegment.Scope scope;
    private final int in;
    private final boolean finite;
    private final boolean sparse;
    private final int[] rowStart;    // row r's entries are [rowStart[r], rowStart[r + 1])
    private final int[] rowOf;       // an entry's row
    private final int[] columns;     // an entry's column, ascending within its row
    private final float[] excesses;  // an entry's half as halfAsNormal reads it less its value

    private ZeroExponentHalves(MemorySegment.Scope scope, int in, boolean finite, boolean sparse, int[] rowStart, int[] rowOf, int[] columns,
                               float[] excesses) {
        this.scope = scope;
        this.in = in;
        this.finite = finite;
        this.sparse = sparse;
        this.rowStart = rowStart;
        this.rowOf = rowOf;
        this.columns = columns;
        this.excesses = excesses;
    }

    /** The facts of the F16 matrix {@code w}, scanned on all cores the first time its memory is asked about. */
    static ZeroExponentHalves of(TensorView w) {
        if (w.dtype() != DType.F16 || w.rank() != 2) throw new IllegalArgumentException(w + " is not an F16 matrix");
        MemorySegment data = w.data();
        ZeroExponentHalves known = KNOWN.get(data);
        if (known == null || known.in != w.dim(1) || !known.scope.equals(data.scope())) {
            known = scan(data, w.dim(0), w.dim(1));
            KNOWN.remove(data); // put alone would keep the earlier key object, and forget the answer when that one is collected
            KNOWN.put(data, known);
        }
        return known;
    }

    /** True if the weight holds no infinity or NaN and few enough zero-exponent halves ({@link #SPARSE}) to stream. */
    boolean streams() { return finite && sparse; }

    /** True if the weight holds no infinity or NaN, whether or not it streams (for tests). */
    boolean finite() { return finite; }

    /**
     * out[t, r] -= x[t, c] times the excess of the half in row r, column c, for every zero-exponent half of rows [r0, r1)
     * in a column below {@code end}, and every token t: takes back what {@link StoredFloats#halfAsNormal} added to the
     * products of those rows, x [tokens, in], out [tokens, outDim]. One loop over the block's halves, not one per row:
     * with a loop for each row (a few turns, and an end the processor cannot foresee), five-token products of F16
     * weights took up to 8 % longer.
     */
    void subtractExcess(float[] x, int tokens, int in, int end, float[] out, int outDim, int r0, int r1) {
        for (int e = rowStart[r0], stop = rowStart[r1]; e < stop; e++) {
            int c = columns[e], r = rowOf[e];
            if (c >= end) continue;
            float d = excesses[e];
            for (int t = 0; t < tokens; t++) out[t * outDim + r] -= x[t * in + c] * d;
        }
    }

    /** The columns of row {@code row}'s zero-exponent halves (for tests). */
    int[] columns(int row) { return Arrays.copyOfRange(columns, rowStart[row], rowStart[row + 1]); }

    /** Scans [rows, in] halves in pieces of whole rows on all cores. */
    static ZeroExponentHalves scan(MemorySegment data, int rows, int in) {
        int rowsPerPiece = (int) Math.max(1, PIECE_BYTES / Math.max(1, 2L * in));
        int pieces = (rows + rowsPerPiece - 1) / rowsPerPiece;
        Piece[] found = new Piece[pieces];
        Parallel.forEach(pieces, p -> found[p] = new Piece(data, in, p * rowsPerPiece, Math.min(rows, (p + 1) * rowsPerPiece)));
        boolean finite = true, sparse = true;
        long entries = 0;
        for (Piece piece : found) {
            finite &= piece.finite;
            sparse &= piece.sparse;
            entries += piece.entries;
        }
        if (!finite || !sparse) return new ZeroExponentHalves(data.scope(), in, finite, sparse, null, null, null, null);
        int[] rowStart = new int[rows + 1], columns = new int[Math.toIntExact(entries)], rowOf = new int[columns.length];
        float[] excesses = new float[columns.length];
        int at = 0, r = 0;
        for (Piece piece : found) {
            System.arraycopy(piece.columns, 0, columns, at, piece.entries);
            System.arraycopy(piece.excesses, 0, excesses, at, piece.entries);
            for (int n : piece.rowEntries) {
                rowStart[r] = at;
                Arrays.fill(rowOf, at, at + n, r++);
                at += n;
            }
        }
        rowStart[rows] = at;
        return new ZeroExponentHalves(data.scope(), in, true, true, rowStart, rowOf, columns, excesses);
    }

    /**
     * Rows [r0, r1) scanned: their zero-exponent halves (no more once they are too many to stream), and whether an exponent
     * of all ones (infinities and NaNs) is among them. Adding one to the exponent carries into the sign bit only from all
     * ones, so an or over the piece tells.
     */
    private static final class Piece {
        final int[] rowEntries;
        final long limit;
        int[] columns = new int[16];
        float[] excesses = new float[16];
        int entries;
        boolean finite = true, sparse = true;

        Piece(MemorySegment data, int in, int r0, int r1) {
            rowEntries = new int[r1 - r0];
            limit = (long) (r1 - r0) * in / SPARSE;
            ShortVector carries = ShortVector.zero(S);
            for (int r = r0; r < r1; r++) {
                int before = entries, c = 0;
                long row = (long) r * in * 2;
                if (data.isNative()) { // vector loads from heap memory are slower than one at a time (see StoredFloats)
                    for (; c <= in - S.length(); c += S.length()) {
                        ShortVector exponent = ShortVector.fromMemorySegment(S, data, row + 2L * c, ByteOrder.LITTLE_ENDIAN).and((short) EXPONENT);
                        carries = carries.or(exponent.add((short) 0x400));
                        for (long zero = exponent.compare(VectorOperators.EQ, 0).toLong(); zero != 0; zero &= zero - 1)
                            add(data, row, c + Long.numberOfTrailingZeros(zero));
                    }
                }
                for (; c < in; c++) {
                    int h = data.get(U16, row + 2L * c);
                    if ((h & EXPONENT) == EXPONENT) finite = false;
                    if ((h & EXPONENT) == 0) add(data, row, c);
                }
                rowEntries[r - r0] = entries - before;
            }
            if (carries.reduceLanes(VectorOperators.OR) < 0) finite = false;
        }

        private void add(MemorySegment data, long row, int c) {
            if (!sparse) return;
            if (entries == limit) {
                sparse = false;
                return;
            }
            if (entries == columns.length) {
                columns = Arrays.copyOf(columns, (int) Math.min(limit, 2L * entries));
                excesses = Arrays.copyOf(excesses, columns.length);
            }
            short half = data.get(U16, row + 2L * c);
            columns[entries] = c;
            excesses[entries++] = StoredFloats.halfAsNormal(half) - Float.float16ToFloat(half); // exact: both are multiples of 2^-25 below 2^-13
        }
    }
}
