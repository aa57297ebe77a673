package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class FiniteHalvesTest {
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

    private static TensorView view(MemorySegment data) {
        return new TensorView("w", Path.of("memory"), DType.F16, new long[] {data.byteSize() / 2}, data);
    }

    @Test
    void everyFinitePatternPassesAndEveryInfinityOrNanIsFoundWherever() {
        int n = 63_500; // all finite patterns once; the last few halves after the widest vectors' loop are the scalar tail
        MemorySegment finite = finiteHalves(n);
        assertTrue(FiniteHalves.finite(finite, 0, finite.byteSize()));
        int patterns = 0;
        for (int pattern = 0; pattern < 65536; pattern++) {
            if (Float.isFinite(Float.float16ToFloat((short) pattern))) continue;
            patterns++;
            // every pattern at one place, every 64th at four: the first half, inside the vector loop, the last half (a scalar tail)
            int[] places = pattern % 64 == 0 ? new int[] {0, 1 + pattern % 5000, n / 2 + pattern % 5000, n - 1} : new int[] {(pattern * 31) % n};
            for (int at : places) {
                short kept = finite.getAtIndex(U16, at);
                finite.setAtIndex(U16, at, (short) pattern);
                assertFalse(FiniteHalves.finite(finite, 0, finite.byteSize()), "0x" + Integer.toHexString(pattern) + " at " + at);
                finite.setAtIndex(U16, at, kept);
            }
        }
        assertEquals(2048, patterns);
        assertTrue(FiniteHalves.finite(finite, 0, finite.byteSize()));
    }

    @Test
    void aWeightIsScannedOnceAndAnsweredForItsOwnMemory() {
        MemorySegment clean = finiteHalves(5_000_000); // several parallel pieces
        MemorySegment dirty = finiteHalves(5_000_000);
        dirty.setAtIndex(U16, 4_999_999, (short) 0x7e00); // a NaN in the last piece
        assertTrue(FiniteHalves.allFinite(view(clean)));
        assertFalse(FiniteHalves.allFinite(view(dirty)));
        // the answer is remembered: a later change to the memory (which a checkpoint's never sees) is not rescanned
        clean.setAtIndex(U16, 0, (short) 0x7c00);
        assertTrue(FiniteHalves.allFinite(view(clean)));
        assertFalse(FiniteHalves.finite(clean, 0, clean.byteSize()));
        assertThrows(IllegalArgumentException.class, () -> FiniteHalves.allFinite(TestTensors.of("b", DType.BF16, new float[4], 4)));
    }
}
