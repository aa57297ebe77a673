package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZeroExponentHalvesTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** n halves, every finite pattern in turn, one byte in so that no load is aligned. */
    private static MemorySegment finiteHalves(int n) {
        MemorySegment data = Arena.ofAuto().allocate(1 + 2L * n).asSlice(1);
        int pattern = 0;
        for (int i = 0; i < n; i++) {
            while (!Float.isFinite(Float.float16ToFloat((short) pattern))) pattern = (pattern + 1) & 0xffff;
            data.setAtIndex(U16, i, (short) pattern);
            pattern = (pattern + 1) & 0xffff;
        }
        return data;
    }

    private static TensorView view(MemorySegment data, int rows, int in) {
        return new TensorView("w", Path.of("memory"), DType.F16, new long[] {rows, in}, data);
    }

    /** The columns of a row's halves with a zero exponent, found one half at a time. */
    private static int[] expectedColumns(MemorySegment data, int row, int in) {
        return IntStream.range(0, in).filter(c -> (data.getAtIndex(U16, (long) row * in + c) & 0x7c00) == 0).toArray();
    }

    /**
     * What reading a row's halves as normal ones adds to its product with x: a zero-exponent half of mantissa m, m 2^-24,
     * is read as (1 + m / 1024) 2^-15. Returns that sum and the sum of its terms' magnitudes.
     */
    private static double[] expectedExcess(MemorySegment data, int row, int in, float[] x, int end) {
        double sum = 0, magnitudes = 0;
        for (int c : expectedColumns(data, row, in)) {
            float value = Float.float16ToFloat(data.getAtIndex(U16, (long) row * in + c));
            double term = c < end ? x[c] * (Math.copySign(0x1p-15 + Math.abs(value) / 2.0, value) - value) : 0;
            sum += term;
            magnitudes += Math.abs(term);
        }
        return new double[] {sum, magnitudes};
    }

    @Test
    void everyFinitePatternPassesAndEveryInfinityOrNanIsFoundWherever() {
        int rows = 500, in = 127; // all finite patterns once; each row ends in a scalar tail after the widest vectors' loop
        int n = rows * in;
        MemorySegment finite = finiteHalves(n);
        assertTrue(ZeroExponentHalves.scan(finite, rows, in).finite());
        int patterns = 0;
        for (int pattern = 0; pattern < 65536; pattern++) {
            if (Float.isFinite(Float.float16ToFloat((short) pattern))) continue;
            patterns++;
            // every pattern at one place, every 64th at four: the first half, inside a vector loop, the last half (a scalar tail)
            int[] places = pattern % 64 == 0 ? new int[] {0, 1 + pattern % 5000, n / 2 + pattern % 5000, n - 1} : new int[] {(pattern * 31) % n};
            for (int at : places) {
                short kept = finite.getAtIndex(U16, at);
                finite.setAtIndex(U16, at, (short) pattern);
                ZeroExponentHalves found = ZeroExponentHalves.scan(finite, rows, in);
                assertFalse(found.finite() || found.streams(), "0x" + Integer.toHexString(pattern) + " at " + at);
                finite.setAtIndex(U16, at, kept);
            }
        }
        assertEquals(2048, patterns);
        assertTrue(ZeroExponentHalves.scan(finite, rows, in).finite());
    }

    /**
     * Zeros and subnormals of both signs, in vector loops and in tails, in native memory and on the heap, in several pieces:
     * each is found, and its excess taken back over the columns asked for.
     */
    @Test
    void everyZeroExponentHalfIsFoundWithItsExcess() {
        Random random = new Random(3);
        for (int in : new int[] {7, 64, 1000, 300_000}) { // rows shorter than a vector; whole vectors; tails; a row per piece
            int rows = Math.max(3, 2_000_000 / in);
            float[] values = TestTensors.gaussian(random, rows * in, 0.02);
            for (int i = 0; i < values.length; i += 50 + random.nextInt(100)) {
                int pick = random.nextInt(4);
                float magnitude = pick == 0 ? 0 : pick == 1 ? 0x1p-24f : pick == 2 ? 0x1p-14f - 0x1p-24f : 0x1p-24f * random.nextInt(1, 1024);
                values[i] = random.nextBoolean() ? magnitude : -magnitude;
            }
            MemorySegment nativeData = TestTensors.of("w", DType.F16, values, rows, in).data();
            MemorySegment heapData = MemorySegment.ofArray(nativeData.toArray(ValueLayout.JAVA_BYTE));
            for (MemorySegment data : new MemorySegment[] {nativeData, heapData}) {
                ZeroExponentHalves found = ZeroExponentHalves.scan(data, rows, in);
                assertTrue(found.streams(), in + " columns");
                float[] x = TestTensors.gaussian(random, in, 1), twice = new float[2 * in]; // two tokens, both x
                System.arraycopy(x, 0, twice, 0, in);
                System.arraycopy(x, 0, twice, in, in);
                for (int r = 0; r < rows; r++) assertArrayEquals(expectedColumns(data, r, in), found.columns(r), "row " + r + " of " + in + " columns");
                for (int end : new int[] {in, in / 2}) {
                    float[] out = new float[2 * rows];
                    found.subtractExcess(twice, 2, in, end, out, rows, 0, rows / 2); // two blocks of rows
                    found.subtractExcess(twice, 2, in, end, out, rows, rows / 2, rows);
                    for (int r = 0; r < rows; r++) {
                        double[] expected = expectedExcess(data, r, in, x, end);
                        for (int t = 0; t < 2; t++) assertEquals(-expected[0], out[t * rows + r], 1e-6 * expected[1], "row " + r + " up to " + end);
                    }
                }
            }
        }
    }

    /** Up to one half in {@value ZeroExponentHalves#SPARSE} may have a zero exponent for a weight to stream; one more and it takes the panels. */
    @Test
    void aWeightStreamsOnlyWithFewZerosAndSubnormals() {
        int rows = 64, in = 64, limit = rows * in / ZeroExponentHalves.SPARSE;
        float[] values = TestTensors.gaussian(new Random(2), rows * in, 1);
        for (int i = 0; i < values.length; i++) if (values[i] == 0) values[i] = 1;
        for (int i = 0; i < limit; i++) values[(i * 37) % values.length] = i % 2 == 0 ? 0 : -0x1p-20f;
        MemorySegment atLimit = TestTensors.of("w", DType.F16, values, rows, in).data();
        assertTrue(ZeroExponentHalves.scan(atLimit, rows, in).streams());
        values[values.length - 1] = 0;
        MemorySegment past = TestTensors.of("w", DType.F16, values, rows, in).data();
        ZeroExponentHalves dense = ZeroExponentHalves.scan(past, rows, in);
        assertTrue(dense.finite());
        assertFalse(dense.streams());
    }

    @Test
    void aWeightIsScannedOnceAndAnsweredForItsOwnMemoryAndShape() {
        int rows = 5, in = 1_000_000; // several parallel pieces
        MemorySegment clean = finiteHalves(rows * in);
        for (long i = 0; i < (long) rows * in; i++) if ((clean.getAtIndex(U16, i) & 0x7c00) == 0) clean.setAtIndex(U16, i, (short) 0x3c00);
        MemorySegment dirty = Arena.ofAuto().allocate(clean.byteSize()).copyFrom(clean);
        dirty.setAtIndex(U16, (long) rows * in - 1, (short) 0x7e00); // a NaN in the last piece
        ZeroExponentHalves answer = ZeroExponentHalves.of(view(clean, rows, in));
        assertTrue(answer.streams());
        assertFalse(ZeroExponentHalves.of(view(dirty, rows, in)).streams());
        // the answer is remembered: a later change to the memory (which a checkpoint's never sees) is not rescanned
        clean.setAtIndex(U16, 0, (short) 0x7c00);
        assertSame(answer, ZeroExponentHalves.of(view(clean, rows, in)));
        // the same memory as a matrix of another width is scanned again, and so is a copy at another address
        assertFalse(ZeroExponentHalves.of(view(clean, 2 * rows, in / 2)).streams());
        clean.setAtIndex(U16, 0, (short) 0x3c00);
        clean.setAtIndex(U16, 1, (short) 0x8000);
        MemorySegment copy = Arena.ofAuto().allocate(clean.byteSize()).copyFrom(clean);
        assertArrayEquals(new int[] {1}, ZeroExponentHalves.of(view(copy, rows, in)).columns(0));
        assertThrows(IllegalArgumentException.class, () -> ZeroExponentHalves.of(TestTensors.of("b", DType.BF16, new float[4], 2, 2)));
        assertThrows(IllegalArgumentException.class, () -> ZeroExponentHalves.of(TestTensors.of("v", DType.F16, new float[4], 4)));
    }

    /**
     * A checkpoint closed and another of the same size mapped in its place: the operating system maps the second at the
     * first's address, so that their segments are equal, and the answer for the first must not be taken for the second.
     */
    @Test
    void aFileMappedWhereAnotherWasIsScannedAfresh(@TempDir Path dir) throws IOException {
        int rows = 4, in = 1000;
        long address = 0;
        for (int column : new int[] {1, 2}) {
            ByteBuffer halves = ByteBuffer.allocate(2 * rows * in).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < rows * in; i++) halves.putShort((short) (i == column ? 0 : 0x3c00)); // ones, and a zero in row 0
            Path file = Files.write(dir.resolve("w" + column + ".bin"), halves.array());
            try (FileChannel channel = FileChannel.open(file); Arena arena = Arena.ofShared()) {
                MemorySegment data = channel.map(FileChannel.MapMode.READ_ONLY, 0, 2L * rows * in, arena);
                if (column == 1) address = data.address();
                else assumeTrue(data.address() == address, "the second file was mapped elsewhere: nothing to tell apart");
                assertArrayEquals(new int[] {column}, ZeroExponentHalves.of(new TensorView("w", file, DType.F16, new long[] {rows, in}, data)).columns(0));
            }
        }
    }
}
