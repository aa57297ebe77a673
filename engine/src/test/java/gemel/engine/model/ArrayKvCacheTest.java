package gemel.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import gemel.engine.kernel.Attention;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ArrayKvCacheTest {

    /**
     * A prompt's keys and values stored as a run of positions land where storing them one position and head at a time
     * puts them: runs longer than the keys' row runs, a start after earlier positions, the second row of a fork.
     */
    @Test
    void positionsStoredTogetherEqualPositionsStoredOneByOne() {
        int layers = 2, kvHeads = 3, headDim = 5, width = kvHeads * headDim, capacity = 200;
        Random random = new Random(3);
        float[] prefixKeys = new float[4 * width];
        for (int i = 0; i < prefixKeys.length; i++) prefixKeys[i] = random.nextFloat();
        ArrayKvCache parent = new ArrayKvCache(layers, kvHeads, headDim, 1, capacity);
        parent.putPositions(1, 0, 0, 4, prefixKeys, 0, prefixKeys, 0);
        parent.advance(4);
        ArrayKvCache together = (ArrayKvCache) parent.fork(2), oneByOne = (ArrayKvCache) parent.fork(2);
        int start = 4 + 7, count = 150; // positions 4 .. 11 of each row left unwritten, then a run
        float[] k = new float[(count + 2) * width], v = new float[(count + 2) * width];
        for (int i = 0; i < k.length; i++) {
            k[i] = random.nextFloat();
            v[i] = random.nextFloat();
        }
        together.putPositions(1, 1, start, count, k, 2 * width, v, 2 * width);
        for (int i = 0; i < count; i++) {
            for (int g = 0; g < kvHeads; g++) oneByOne.putHead(1, 1, g, start + i, k, (2 + i) * width, v, (2 + i) * width);
        }
        for (int g = 0; g < kvHeads; g++) {
            Attention.Span[] a = together.spans(1, 1, g, start + count), b = oneByOne.spans(1, 1, g, start + count);
            assertEquals(2, a.length, "the parent's positions, then the row's own");
            Attention.Span x = a[1], y = b[1];
            for (int j = 0; j < x.length(); j++) {
                for (int d = 0; d < headDim; d++) {
                    assertEquals(y.keys()[y.keyOffset() + d * y.keyStride() + j], x.keys()[x.keyOffset() + d * x.keyStride() + j], "key " + j + "." + d);
                    assertEquals(y.values()[y.valueOffset() + j * y.valueStride() + d], x.values()[x.valueOffset() + j * x.valueStride() + d], "value " + j + "." + d);
                }
            }
            // and the stored values are the inputs: position start + i of head g holds k[(2 + i) * width + g * headDim + d]
            int i = count - 1, d = headDim - 1, j = start + i - 4;
            assertEquals(k[(2 + i) * width + g * headDim + d], x.keys()[x.keyOffset() + d * x.keyStride() + j]);
            assertEquals(v[(2 + i) * width + g * headDim + d], x.values()[x.valueOffset() + j * x.valueStride() + d]);
        }
    }
}
