package gemel.link;

import gemel.engine.io.AtomicFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * A prefix tree over token-id sequences (GENRE style): each entry is the tokenizer's ids of an
 * entity name followed by the end-of-sequence text, e.g. for OPT {@code [2, name ids..., 2]}.
 * During generation it says which tokens may follow a generated prefix.
 *
 * <p>Layout (Lucene habit: flat arrays, no object per node): nodes are numbered breadth first, so
 * the children of a node are consecutive node ids and need no list of their own. Node 0 is the
 * root. A tree with millions of names costs 8 bytes per node. Immutable; safe for many threads.
 */
public final class EntityTree {
    private static final long MAGIC = 0x4545525445544D47L; // "GMTETREE" little-endian
    private static final int VERSION = 1;
    private static final int HEADER_BYTES = 8 + 4 * 5;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int[] NONE = new int[0];

    private final int startToken;
    private final int entries;      // distinct sequences added
    private final int[] firstChild; // [nodes + 1]: children of node v are nodes firstChild[v] .. firstChild[v + 1] - 1
    private final int[] token;      // [nodes]: the token on the edge into the node (root: -1); ascending among siblings

    EntityTree(int startToken, int entries, int[] firstChild, int[] token) {
        this.startToken = startToken;
        this.entries = entries;
        this.firstChild = firstChild;
        this.token = token;
    }

    /** A builder for a tree whose entries all begin with {@code startToken}. */
    public static EntityTreeBuilder builder(int startToken) { return new EntityTreeBuilder(startToken); }

    /** The token every entry begins with and generation starts from (OPT: 2). */
    public int startToken() { return startToken; }

    /** Distinct entries. */
    public int entryCount() { return entries; }

    public int nodeCount() { return token.length; }

    /** Bytes held by the arrays. */
    public long byteSize() { return 4L * (firstChild.length + token.length); }

    /**
     * The tokens allowed after {@code prefix[0 .. length)}: walks the tree from the last occurrence of
     * the start token in the prefix (from the beginning when there is none), and returns the children
     * of the node reached, ascending; empty when the walked part is not a prefix of any entry. An
     * empty prefix allows the first tokens of the entries.
     */
    public int[] allowedNext(int[] prefix, int length) {
        int node = nodeAfter(prefix, length);
        if (node < 0) return NONE;
        return Arrays.copyOfRange(token, firstChild[node], firstChild[node + 1]);
    }

    /** The node {@link #allowedNext} reads its answer from (no copy), or -1 when there is none. */
    public int nodeAfter(int[] prefix, int length) { return walk(prefix, lastStart(prefix, length), length); }

    /** How many tokens may follow at {@code node} (0 at the end of an entry). */
    public int childCount(int node) { return firstChild[node + 1] - firstChild[node]; }

    public int[] allowedNext(int[] prefix) { return allowedNext(prefix, prefix.length); }

    private int lastStart(int[] prefix, int length) {
        for (int i = length - 1; i >= 0; i--) if (prefix[i] == startToken) return i;
        return 0;
    }

    /** The node reached from the root along {@code ids[from .. to)}, or -1. */
    private int walk(int[] ids, int from, int to) {
        int node = 0;
        for (int i = from; i < to && node >= 0; i++) node = child(node, ids[i]);
        return node;
    }

    private int child(int node, int t) {
        int lo = firstChild[node], hi = firstChild[node + 1] - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int m = token[mid];
            if (m < t) lo = mid + 1;
            else if (m > t) hi = mid - 1;
            else return mid;
        }
        return -1;
    }

    /** Writes the tree to {@code file} atomically (a temporary file in the same folder, then a move). */
    public void save(Path file) {
        AtomicFile.write(file, ch -> {
            CRC32 crc = new CRC32();
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            header.putLong(MAGIC).putInt(VERSION).putInt(startToken).putInt(entries).putInt(token.length).putInt(0).flip();
            AtomicFile.writeFully(ch, header);
            writeInts(ch, firstChild, crc);
            writeInts(ch, token, crc);
            AtomicFile.writeFully(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(crc.getValue()).flip());
        });
    }

    private static void writeInts(FileChannel ch, int[] values, CRC32 crc) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; ) {
            buf.clear();
            int n = Math.min(values.length - i, buf.capacity() / 4);
            buf.asIntBuffer().put(values, i, n);
            buf.limit(n * 4);
            crc.update(buf.duplicate());
            AtomicFile.writeFully(ch, buf);
            i += n;
        }
    }

    /** Reads a tree written by {@link #save}; a truncated, corrupted or foreign file is an error naming it. */
    public static EntityTree load(Path file) {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < HEADER_BYTES + 8) throw corrupt(file, "too short (" + size + " bytes)");
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            if (seg.get(LONG, 0) != MAGIC) throw corrupt(file, "not an entity tree (bad magic)");
            int version = seg.get(INT, 8);
            if (version != VERSION) throw corrupt(file, "version " + version + ", this gemel reads version " + VERSION);
            int start = seg.get(INT, 12), entries = seg.get(INT, 16), nodes = seg.get(INT, 20);
            if (nodes < 1 || entries < 0) throw corrupt(file, "bad counts (nodes " + nodes + ", entries " + entries + ")");
            long expected = HEADER_BYTES + 4L * (2L * nodes + 1) + 8;
            if (size != expected) throw corrupt(file, "size " + size + " bytes, its header implies " + expected);
            int[] firstChild = new int[nodes + 1];
            int[] token = new int[nodes];
            MemorySegment.copy(seg, INT, HEADER_BYTES, firstChild, 0, firstChild.length);
            MemorySegment.copy(seg, INT, HEADER_BYTES + 4L * firstChild.length, token, 0, nodes);
            CRC32 crc = new CRC32();
            crc.update(seg.asSlice(HEADER_BYTES, size - HEADER_BYTES - 8).asByteBuffer());
            if (crc.getValue() != seg.get(LONG, size - 8)) throw corrupt(file, "checksum mismatch");
            checkShape(file, firstChild, token);
            return new EntityTree(start, entries, firstChild, token);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read entity tree " + file + ": " + e.getMessage(), e);
        }
    }

    /** Breadth-first numbering: child ranges tile nodes 1..n-1 in order; siblings strictly ascending. */
    private static void checkShape(Path file, int[] firstChild, int[] token) {
        int nodes = token.length;
        if (firstChild[0] != 1) throw corrupt(file, "root children do not start at node 1");
        for (int v = 0; v < nodes; v++) {
            int lo = firstChild[v], hi = firstChild[v + 1];
            if (lo > hi || hi > nodes || (v > 0 && lo <= v)) throw corrupt(file, "bad child range of node " + v);
            for (int c = lo + 1; c < hi; c++)
                if (token[c] <= token[c - 1]) throw corrupt(file, "children of node " + v + " are not ascending");
        }
        if (firstChild[nodes] != nodes) throw corrupt(file, "child ranges do not end at the last node");
    }

    private static IllegalArgumentException corrupt(Path file, String why) {
        return new IllegalArgumentException("entity tree " + file + ": " + why);
    }
}
