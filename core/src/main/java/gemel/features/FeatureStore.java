package gemel.features;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The project's own image-feature file, memory-mapped. Layout (little-endian):
 * <pre>
 *   0  "GEMELFS1"            magic
 *   8  int32  dim
 *  12  int32  count
 *  16  int64  keysOffset      = 64 + count * dim * 4
 *  24  zeros up to 64
 *  64  float32[count][dim]   the vectors
 *  keysOffset: count x (int32 byteLength, UTF-8 key)
 * </pre>
 * Keys follow the vectors so that {@link FeatureStoreWriter} can stream vectors without knowing all keys.
 */
public final class FeatureStore implements ImageFeatures {
    public static final String EXTENSION = ".gfeat";
    static final byte[] MAGIC = "GEMELFS1".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_BYTES = 64;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena;
    private final MemorySegment data;       // the whole file
    private final int dim;
    private final int count;
    private final List<String> keys;        // row -> key as stored
    private final FeatureKeyIndex index;

    private FeatureStore(Arena arena, MemorySegment data, int dim, int count, List<String> keys, Path file) {
        this.arena = arena;
        this.data = data;
        this.dim = dim;
        this.count = count;
        this.keys = List.copyOf(keys);
        this.index = new FeatureKeyIndex(keys, file.toString());
    }

    public static FeatureStore open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            if (seg.byteSize() < HEADER_BYTES || mismatchMagic(seg))
                throw new IllegalArgumentException(file + ": not a gemel feature store (bad magic or too short)");
            int dim = seg.get(I32, 8);
            int count = seg.get(I32, 12);
            long keysOffset = seg.get(I64, 16);
            if (dim <= 0 || count < 0 || keysOffset != HEADER_BYTES + (long) count * dim * 4 || keysOffset > seg.byteSize())
                throw new IllegalArgumentException(file + ": corrupt feature store header (dim " + dim + ", count "
                        + count + ", keys at " + keysOffset + ", file size " + seg.byteSize() + ")");
            List<String> keys = new ArrayList<>(count);
            long at = keysOffset;
            for (int i = 0; i < count; i++) {
                if (at + 4 > seg.byteSize()) throw truncated(file, i);
                int len = seg.get(I32, at);
                if (len < 0 || at + 4 + len > seg.byteSize()) throw truncated(file, i);
                keys.add(new String(seg.asSlice(at + 4, len).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
                at += 4 + len;
            }
            if (at != seg.byteSize())
                throw new IllegalArgumentException(file + ": " + (seg.byteSize() - at) + " unexpected bytes after the keys");
            return new FeatureStore(arena, seg, dim, count, keys, file);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static boolean mismatchMagic(MemorySegment seg) {
        return MemorySegment.mismatch(seg, 0, MAGIC.length, MemorySegment.ofArray(MAGIC), 0, MAGIC.length) != -1;
    }

    private static IllegalArgumentException truncated(Path file, int key) {
        return new IllegalArgumentException(file + ": key " + key + " is truncated");
    }

    @Override
    public int dim() { return dim; }

    @Override
    public int size() { return count; }

    /** Stored keys in row order. */
    public List<String> keys() { return keys; }

    @Override
    public float[] find(String key) {
        int row = index.row(key);
        if (row < 0) return null;
        float[] v = new float[dim];
        MemorySegment.copy(data, F32, HEADER_BYTES + (long) row * dim * 4, v, 0, dim);
        return v;
    }

    @Override
    public void close() { arena.close(); }
}
