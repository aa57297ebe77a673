package gemel.engine.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes numpy's {@code .npy} format: the magic {@code \x93NUMPY}, a version, a header
 * that is a Python dict literal ({@code descr}, {@code fortran_order}, {@code shape}), then the raw
 * values. Reads versions 1 to 3 of {@code <f4}, {@code <i4} and {@code <i8} arrays in C order;
 * writes {@code <f4} and {@code <i4} exactly as {@code numpy.save} does (header padded to 64 bytes).
 */
public final class NpyFile {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Map<String, Integer> ITEM_BYTES = Map.of("<f4", 4, "<i4", 4, "<i8", 8);
    private static final int ALIGN = 64;
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private NpyFile() {}

    public static NpyArray read(Path file) {
        try (Arena arena = Arena.ofConfined(); FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment all = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return parse(file, all);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static NpyArray parse(Path file, MemorySegment all) {
        if (all.byteSize() < 10 || !Arrays.equals(all.asSlice(0, 6).toArray(ValueLayout.JAVA_BYTE), MAGIC))
            throw new IllegalArgumentException(file + ": not a .npy file (no \\x93NUMPY magic)");
        int major = all.get(ValueLayout.JAVA_BYTE, 6);
        long headerStart, headerLength;
        switch (major) {
            case 1 -> {
                headerLength = all.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8) & 0xffff;
                headerStart = 10;
            }
            case 2, 3 -> {
                if (all.byteSize() < 12) throw new IllegalArgumentException(file + ": .npy header ends early");
                headerLength = all.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8) & 0xFFFFFFFFL;
                headerStart = 12;
            }
            default -> throw new IllegalArgumentException(file + ": unsupported .npy version " + major);
        }
        if (headerLength > all.byteSize() - headerStart)
            throw new IllegalArgumentException(file + ": .npy header length " + headerLength + " runs past the end of the file");
        String header = new String(all.asSlice(headerStart, headerLength).toArray(ValueLayout.JAVA_BYTE),
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).strip();
        if (!header.startsWith("{") || !header.endsWith("}"))
            throw new IllegalArgumentException(file + ": .npy header is not a dict: " + header);
        String descr = field(file, DESCR, header, "descr");
        Integer itemBytes = ITEM_BYTES.get(descr);
        if (itemBytes == null) throw new IllegalArgumentException(file + ": unsupported .npy dtype " + descr + " (gemel reads <f4, <i4, <i8)");
        if (field(file, FORTRAN, header, "fortran_order").equals("True"))
            throw new IllegalArgumentException(file + ": fortran_order arrays are not supported; save a C-ordered array");
        long[] shape = shape(file, field(file, SHAPE, header, "shape"));
        long dataStart = headerStart + headerLength;
        long count = 1;
        for (long d : shape) count = Math.multiplyExact(count, d);
        long expected = Math.multiplyExact(count, (long) itemBytes);
        if (all.byteSize() - dataStart != expected)
            throw new IllegalArgumentException(file + ": shape " + Arrays.toString(shape) + " " + descr + " needs " + expected
                    + " bytes of data but the file has " + (all.byteSize() - dataStart));
        if (expected > Integer.MAX_VALUE - 16) throw new IllegalArgumentException(file + ": " + expected + " bytes is too large to load");
        MemorySegment data = MemorySegment.ofArray(new byte[(int) expected]);
        data.copyFrom(all.asSlice(dataStart, expected));
        return new NpyArray(file, descr, shape, data);
    }

    private static String field(Path file, Pattern pattern, String header, String key) {
        Matcher m = pattern.matcher(header);
        if (!m.find()) throw new IllegalArgumentException(file + ": .npy header lacks a valid '" + key + "': " + header);
        return m.group(1);
    }

    private static long[] shape(Path file, String tuple) {
        String body = tuple.strip();
        if (body.isEmpty()) return new long[0];
        if (body.endsWith(",")) body = body.substring(0, body.length() - 1);
        String[] parts = body.split(",");
        long[] shape = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                shape[i] = Long.parseLong(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": .npy shape (" + tuple + ") is not a tuple of integers");
            }
            if (shape[i] < 0) throw new IllegalArgumentException(file + ": .npy shape (" + tuple + ") has a negative dimension");
        }
        return shape;
    }

    /** Writes {@code values} as a {@code <f4} array of {@code shape}, atomically. */
    public static void write(Path file, long[] shape, float[] values) {
        byte[] data = new byte[Math.multiplyExact(values.length, 4)];
        MemorySegment.copy(values, 0, MemorySegment.ofArray(data), ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length);
        write(file, "<f4", shape, values.length, data);
    }

    /** Writes {@code values} as a {@code <i4} array of {@code shape}, atomically. */
    public static void write(Path file, long[] shape, int[] values) {
        byte[] data = new byte[Math.multiplyExact(values.length, 4)];
        MemorySegment.copy(values, 0, MemorySegment.ofArray(data), ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length);
        write(file, "<i4", shape, values.length, data);
    }

    private static void write(Path file, String descr, long[] shape, int count, byte[] littleEndian) {
        long expected = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("cannot write " + file + ": negative dimension in shape " + Arrays.toString(shape));
            expected = Math.multiplyExact(expected, d);
        }
        if (expected != count)
            throw new IllegalArgumentException("cannot write " + file + ": shape " + Arrays.toString(shape) + " holds " + expected
                    + " values but " + count + " were given");
        byte[] header = header(descr, shape);
        AtomicFile.write(file, channel -> {
            AtomicFile.writeFully(channel, ByteBuffer.wrap(header));
            AtomicFile.writeFully(channel, ByteBuffer.wrap(littleEndian));
        });
    }

    /** Magic, version, length and the dict literal padded with spaces to a multiple of 64 bytes, as numpy writes it. */
    private static byte[] header(String descr, long[] shape) {
        StringBuilder tuple = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) tuple.append(i > 0 ? ", " : "").append(shape[i]);
        tuple.append(shape.length == 1 ? ",)" : ")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + tuple + ", }";
        int padded = padded(10, dict);
        boolean v1 = padded - 10 <= 0xFFFF; // version 1 stores the header length in 16 bits
        if (!v1) padded = padded(12, dict);
        int total = (v1 ? 10 : 12) + dict.length() + 1;
        String text = dict + " ".repeat(padded - total) + "\n";
        ByteBuffer out = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) (v1 ? 1 : 2)).put((byte) 0);
        if (v1) out.putShort((short) text.length());
        else out.putInt(text.length());
        return out.put(text.getBytes(StandardCharsets.ISO_8859_1)).array();
    }

    /** The whole header's size for a prefix of {@code prefix} bytes: dict, newline, rounded up to {@link #ALIGN}. */
    private static int padded(int prefix, String dict) {
        return (prefix + dict.length() + 1 + ALIGN - 1) / ALIGN * ALIGN;
    }
}
