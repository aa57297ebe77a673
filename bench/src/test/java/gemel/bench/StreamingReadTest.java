package gemel.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StreamingReadTest {

    /** Lengths around the vector and unroll widths and the per-core split, so every tail path runs. */
    @Test
    void vectorSumMatchesScalarTwin() {
        SplittableRandom random = new SplittableRandom(3);
        try (Arena arena = Arena.ofShared()) { // the pool's threads read it
            for (int words : new int[] {0, 1, 15, 16, 17, 63, 64, 65, 127, 129, 1000, 4099, 100_003}) {
                MemorySegment data = arena.allocate(4L * words, 64);
                for (int i = 0; i < words; i++) data.setAtIndex(ValueLayout.JAVA_INT, i, random.nextInt());
                assertEquals(StreamingRead.sumScalar(data), StreamingRead.sum(data), "words = " + words);
            }
        }
    }

    @Test
    void scalarTwinAddsEveryElement() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(4L * 10, 64);
            for (int i = 0; i < 10; i++) data.setAtIndex(ValueLayout.JAVA_INT, i, i + 1);
            assertEquals(55, StreamingRead.sumScalar(data));
            data.setAtIndex(ValueLayout.JAVA_INT, 0, Integer.MAX_VALUE); // the sum wraps
            assertEquals(Integer.MAX_VALUE + 54, StreamingRead.sumScalar(data));
        }
    }
}
