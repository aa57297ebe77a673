package gemel.engine.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code .safetensors} file mapped read-only into memory: an 8-byte little-endian header length,
 * a JSON header ({@code name -> {dtype, shape, data_offsets}} plus optional string
 * {@code __metadata__}), then the tensor bytes. Every tensor is a {@link TensorView} over a slice of
 * the one mapping, so nothing is copied. The whole header is validated at open.
 *
 * <p>Tensors of a dtype gemel does not compute with (I64, F64, BOOL...) are allowed in the file —
 * Hugging Face checkpoints carry such buffers, e.g. CLIP's int64 {@code position_ids} — and fail
 * only when asked for by {@link #tensor}. A dtype outside the safetensors specification is an error
 * at open.
 */
public final class SafetensorsFile implements WeightSource {
    /** Bytes per element of every dtype the safetensors format defines. */
    private static final Map<String, Integer> FORMAT_DTYPE_BYTES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1), Map.entry("F8_E5M2", 1), Map.entry("F8_E4M3", 1),
            Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2), Map.entry("BF16", 2),
            Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
            Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));
    /** The reference implementation refuses headers above 100 MB; so do we (a larger one is corrupt). */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path file;
    private final Arena arena;
    private final Map<String, String> metadata;
    private final Map<String, TensorView> tensors;
    /** Tensors present in the file in a dtype gemel does not read: name -> dtype. */
    private final Map<String, String> unreadable;
    private final Set<String> names;

    private SafetensorsFile(Path file, Arena arena, Map<String, String> metadata, Map<String, TensorView> tensors,
                            Map<String, String> unreadable, Set<String> names) {
        this.file = file;
        this.arena = arena;
        this.metadata = metadata;
        this.tensors = tensors;
        this.unreadable = unreadable;
        this.names = names;
    }

    /** Maps and validates {@code file}; the mapping lives until {@link #close()}. */
    public static SafetensorsFile open(Path file) {
        return MappedFile.open(file, SafetensorsFile::parse);
    }

    private record Entry(String name, String dtype, long[] shape, long begin, long end) {}

    private static SafetensorsFile parse(Path file, Arena arena, MemorySegment all) {
        if (all.byteSize() < 8)
            throw new IllegalArgumentException(file + ": not a safetensors file (" + all.byteSize() + " bytes, shorter than the 8-byte header length)");
        long headerLength = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        long available = all.byteSize() - 8;
        if (headerLength < 0 || headerLength > available)
            throw new IllegalArgumentException(file + ": header length " + Long.toUnsignedString(headerLength)
                    + " is beyond the end of the file (" + available + " bytes follow it)");
        if (headerLength > MAX_HEADER_BYTES)
            throw new IllegalArgumentException(file + ": header length " + headerLength + " exceeds " + MAX_HEADER_BYTES + " bytes");
        byte[] headerBytes = all.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = JSON.readTree(headerBytes);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read header: " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) throw new IllegalArgumentException(file + ": header is not a JSON object");

        long dataStart = 8 + headerLength;
        long dataSize = all.byteSize() - dataStart;
        Map<String, String> metadata = Map.of();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : header.properties()) {
            if (field.getKey().equals("__metadata__")) metadata = readMetadata(file, field.getValue());
            else entries.add(readEntry(file, field.getKey(), field.getValue(), dataSize));
        }
        requireDisjoint(file, entries);

        Map<String, TensorView> tensors = new LinkedHashMap<>();
        Map<String, String> unreadable = new LinkedHashMap<>();
        Set<String> names = new LinkedHashSet<>();
        for (Entry e : entries) {
            names.add(e.name);
            DType dtype = readableDType(e.dtype);
            if (dtype == null) unreadable.put(e.name, e.dtype);
            else tensors.put(e.name, new TensorView(e.name, file, dtype, e.shape, all.asSlice(dataStart + e.begin, e.end - e.begin)));
        }
        return new SafetensorsFile(file, arena, metadata, Collections.unmodifiableMap(tensors), unreadable, Collections.unmodifiableSet(names));
    }

    private static Map<String, String> readMetadata(Path file, JsonNode node) {
        if (!node.isObject()) throw new IllegalArgumentException(file + ": __metadata__ is not a JSON object");
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual())
                throw new IllegalArgumentException(file + ": __metadata__ entry " + m.getKey() + " is not a string (" + m.getValue().getNodeType() + ")");
            metadata.put(m.getKey(), m.getValue().asText());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Entry readEntry(Path file, String name, JsonNode node, long dataSize) {
        String where = file + ": tensor " + name;
        if (!node.isObject()) throw new IllegalArgumentException(where + ": header entry is not a JSON object");
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw new IllegalArgumentException(where + ": missing or non-string \"dtype\"");
        String dtype = dtypeNode.asText();
        Integer elementBytes = FORMAT_DTYPE_BYTES.get(dtype);
        if (elementBytes == null) throw new IllegalArgumentException(where + ": unknown dtype " + dtype);
        long[] shape = longs(where, node.get("shape"), "shape", -1);
        for (long d : shape)
            if (d < 0) throw new IllegalArgumentException(where + ": negative dimension in shape " + Arrays.toString(shape));
        long[] offsets = longs(where, node.get("data_offsets"), "data_offsets", 2);
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < 0) throw new IllegalArgumentException(where + ": negative data_offsets " + Arrays.toString(offsets));
        if (begin > end) throw new IllegalArgumentException(where + ": data_offsets " + Arrays.toString(offsets) + " are reversed");
        if (end > dataSize)
            throw new IllegalArgumentException(where + ": data_offsets " + Arrays.toString(offsets) + " run past the end of the data (" + dataSize + " bytes)");
        long needed;
        try {
            long count = 1;
            for (long d : shape) count = Math.multiplyExact(count, d);
            needed = Math.multiplyExact(count, (long) elementBytes);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(where + ": shape " + Arrays.toString(shape) + " overflows");
        }
        if (needed != end - begin)
            throw new IllegalArgumentException(where + ": shape " + Arrays.toString(shape) + " " + dtype + " needs " + needed
                    + " bytes but data_offsets " + Arrays.toString(offsets) + " hold " + (end - begin));
        return new Entry(name, dtype, shape, begin, end);
    }

    /** A JSON array of integers ({@code length} of them unless negative). */
    private static long[] longs(String where, JsonNode node, String key, int length) {
        if (node == null || !node.isArray()) throw new IllegalArgumentException(where + ": missing or non-array \"" + key + "\"");
        if (length >= 0 && node.size() != length)
            throw new IllegalArgumentException(where + ": \"" + key + "\" has " + node.size() + " entries, expected " + length);
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong())
                throw new IllegalArgumentException(where + ": \"" + key + "\" entry " + v + " is not an integer");
            out[i] = v.asLong();
        }
        return out;
    }

    /** No two tensors may share a byte (empty tensors take none). */
    private static void requireDisjoint(Path file, List<Entry> entries) {
        List<Entry> byStart = new ArrayList<>(entries.stream().filter(e -> e.end > e.begin).toList());
        byStart.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < byStart.size(); i++) {
            Entry prev = byStart.get(i - 1), cur = byStart.get(i);
            if (cur.begin < prev.end)
                throw new IllegalArgumentException(file + ": tensor " + cur.name + " " + Arrays.toString(new long[]{cur.begin, cur.end})
                        + " overlaps tensor " + prev.name + " " + Arrays.toString(new long[]{prev.begin, prev.end}));
        }
    }

    private static DType readableDType(String dtype) {
        return switch (dtype) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            default -> null;
        };
    }

    public Path file() { return file; }

    /** The header's {@code __metadata__} (empty when absent). */
    public Map<String, String> metadata() { return metadata; }

    @Override
    public Set<String> names() { return names; }

    @Override
    public TensorView tensor(String name) {
        TensorView view = tensors.get(name);
        if (view != null) return view;
        String dtype = unreadable.get(name);
        if (dtype != null)
            throw new IllegalArgumentException(file + ": tensor " + name + " is stored as " + dtype + "; gemel reads F32, F16, BF16 weights");
        throw new IllegalArgumentException(file + ": no tensor " + name);
    }

    @Override
    public void close() {
        MappedFile.close(arena);
    }
}
