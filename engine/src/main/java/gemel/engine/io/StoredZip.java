package gemel.engine.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The entries of a zip archive whose entries are all STORED (uncompressed), as slices of the
 * mapped archive: reading an entry copies nothing. Reads the central directory (ZIP64 included, as
 * multi-gigabyte checkpoints need), then each entry's local header to find where its bytes start.
 */
final class StoredZip {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int END_OF_DIRECTORY = 0x06054b50, ZIP64_LOCATOR = 0x07064b50, ZIP64_END = 0x06064b50;
    private static final int DIRECTORY_ENTRY = 0x02014b50, LOCAL_HEADER = 0x04034b50;
    private static final long U32_MAX = 0xFFFFFFFFL;
    private static final int U16_MAX = 0xFFFF;

    private final Path file;
    private final MemorySegment zip;

    private StoredZip(Path file, MemorySegment zip) {
        this.file = file;
        this.zip = zip;
    }

    /** Entry name -> its bytes, in central directory order. */
    static Map<String, MemorySegment> entries(Path file, MemorySegment zip) {
        return new StoredZip(file, zip).readDirectory();
    }

    private Map<String, MemorySegment> readDirectory() {
        long end = findEndOfDirectory();
        long count = u16(end + 10), directorySize = u32(end + 12), directoryOffset = u32(end + 16);
        if (count == U16_MAX || directorySize == U32_MAX || directoryOffset == U32_MAX) {
            long locator = end - 20;
            if (locator < 0 || u32(locator) != ZIP64_LOCATOR) throw corrupt("ZIP64 sizes without a ZIP64 locator");
            long zip64End = u64(locator + 8);
            if (zip64End < 0 || zip64End > zip.byteSize() - 56 || u32(zip64End) != ZIP64_END) throw corrupt("bad ZIP64 end record");
            count = u64(zip64End + 32);
            directorySize = u64(zip64End + 40);
            directoryOffset = u64(zip64End + 48);
        }
        if (directoryOffset < 0 || directorySize < 0 || directoryOffset > zip.byteSize() - directorySize)
            throw corrupt("central directory lies outside the file");
        Map<String, MemorySegment> entries = new LinkedHashMap<>();
        long at = directoryOffset;
        for (long i = 0; i < count; i++) {
            require(at, 46);
            if (u32(at) != DIRECTORY_ENTRY) throw corrupt("bad central directory entry " + i);
            int method = u16(at + 10);
            long compressed = u32(at + 20), size = u32(at + 24);
            int nameLength = u16(at + 28), extraLength = u16(at + 30), commentLength = u16(at + 32);
            long localOffset = u32(at + 42);
            require(at + 46, nameLength + extraLength);
            String name = new String(zip.asSlice(at + 46, nameLength).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            long[] fields = {size, compressed, localOffset};
            readZip64Extra(at + 46 + nameLength, extraLength, fields, name);
            size = fields[0];
            compressed = fields[1];
            localOffset = fields[2];
            if (method != 0)
                throw new IllegalArgumentException(file + ": zip entry " + name + " is compressed (method " + method
                        + "); PyTorch checkpoints store entries uncompressed, so this file was repacked and cannot be mapped");
            if (compressed != size) throw corrupt("entry " + name + " is stored but its sizes differ");
            entries.put(name, data(localOffset, size, name));
            at += 46L + nameLength + extraLength + commentLength;
        }
        return Collections.unmodifiableMap(entries);
    }

    /** Replaces the 32-bit fields that overflowed (0xFFFFFFFF) with their ZIP64 values, in spec order. */
    private void readZip64Extra(long at, int length, long[] fields, String name) {
        long end = at + length;
        while (at + 4 <= end) {
            int id = u16(at), size = u16(at + 2);
            if (at + 4 + size > end) throw corrupt("entry " + name + " has a truncated extra field");
            if (id == 1) {
                long p = at + 4;
                for (int i = 0; i < fields.length; i++) {
                    if (fields[i] != U32_MAX) continue;
                    if (p + 8 > at + 4 + size) throw corrupt("entry " + name + " has a short ZIP64 extra field");
                    fields[i] = u64(p);
                    p += 8;
                }
                return;
            }
            at += 4 + size;
        }
        for (long f : fields) if (f == U32_MAX) throw corrupt("entry " + name + " needs a ZIP64 extra field it lacks");
    }

    private MemorySegment data(long localOffset, long size, String name) {
        require(localOffset, 30);
        if (u32(localOffset) != LOCAL_HEADER) throw corrupt("entry " + name + " has no local header at " + localOffset);
        long start = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28);
        if (size < 0 || start > zip.byteSize() || size > zip.byteSize() - start)
            throw corrupt("entry " + name + " (" + size + " bytes at " + start + ") runs past the end of the file");
        return zip.asSlice(start, size);
    }

    private long findEndOfDirectory() {
        long last = zip.byteSize() - 22;
        for (long at = last; at >= 0 && at >= last - U16_MAX; at--)
            if (u32(at) == END_OF_DIRECTORY) return at;
        throw corrupt("no end of central directory record");
    }

    private void require(long at, long length) {
        if (at < 0 || at > zip.byteSize() - length) throw corrupt("a record at " + at + " runs past the end of the file");
    }

    private long u32(long at) { return zip.get(U32, at) & U32_MAX; }

    private int u16(long at) { return zip.get(U16, at) & U16_MAX; }

    private long u64(long at) { return zip.get(U64, at); }

    private IllegalArgumentException corrupt(String what) {
        return new IllegalArgumentException(file + ": corrupt zip: " + what);
    }
}
