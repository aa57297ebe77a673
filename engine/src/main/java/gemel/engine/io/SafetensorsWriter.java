package gemel.engine.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.tensor.DType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Collects named tensors and string metadata, then writes them as one {@code .safetensors} file,
 * atomically. Float values are converted to the requested dtype at write time (F16 and BF16 round
 * to nearest even, as PyTorch does), so a large tensor is never held twice. Tensors are laid out in
 * the order they were added; the header is padded with spaces so the data starts 8-byte aligned.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Elements converted (or bytes copied) per write call: bounds the staging buffer. */
    private static final int CHUNK = 1 << 18;

    /** One tensor to write: exactly one of {@code floats}, {@code bytes}, {@code view} is set. */
    private record Pending(DType dtype, long[] shape, float[] floats, byte[] bytes, TensorView view) {
        long byteLength() {
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n * dtype.bytes();
        }
    }

    private final Map<String, Pending> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds {@code values} (row-major over {@code shape}), to be stored as {@code dtype}. */
    public SafetensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
        return put(name, new Pending(dtype, shape.clone(), values, null, null), values.length);
    }

    /** Adds bytes already encoded little-endian in {@code dtype}. */
    public SafetensorsWriter addBytes(String name, DType dtype, long[] shape, byte[] littleEndian) {
        if (littleEndian.length % dtype.bytes() != 0)
            throw new IllegalArgumentException("tensor " + name + ": " + littleEndian.length + " bytes is not a whole number of " + dtype + " elements");
        return put(name, new Pending(dtype, shape.clone(), null, littleEndian, null), littleEndian.length / dtype.bytes());
    }

    /** Adds a copy of a stored tensor, keeping its dtype and shape. */
    public SafetensorsWriter add(String name, TensorView view) {
        return put(name, new Pending(view.dtype(), view.shape().clone(), null, null, view), view.elementCount());
    }

    private SafetensorsWriter put(String name, Pending tensor, long elements) {
        if (name.isEmpty() || name.equals("__metadata__")) throw new IllegalArgumentException("invalid tensor name \"" + name + "\"");
        if (tensors.containsKey(name)) throw new IllegalArgumentException("tensor " + name + " added twice");
        long expected = 1;
        for (long d : tensor.shape) {
            if (d < 0) throw new IllegalArgumentException("tensor " + name + ": negative dimension in shape " + Arrays.toString(tensor.shape));
            expected = Math.multiplyExact(expected, d);
        }
        if (expected != elements)
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(tensor.shape) + " holds " + expected
                    + " elements but " + elements + " were given");
        tensors.put(name, tensor);
        return this;
    }

    /** Writes everything added so far to {@code file} (replacing it atomically). */
    public void write(Path file) {
        byte[] header = header();
        AtomicFile.write(file, channel -> {
            ByteBuffer prefix = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            prefix.putLong(header.length).put(header).flip();
            AtomicFile.writeFully(channel, prefix);
            for (Pending t : tensors.values()) writeData(channel, t);
        });
    }

    private byte[] header() {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Pending> e : tensors.entrySet()) {
            Pending t = e.getValue();
            ObjectNode node = root.putObject(e.getKey());
            node.put("dtype", t.dtype.name());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape) shape.add(d);
            long end = offset + t.byteLength();
            node.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        String json = root.toString();
        int length = json.getBytes(StandardCharsets.UTF_8).length;
        return (json + " ".repeat((8 - length % 8) % 8)).getBytes(StandardCharsets.UTF_8);
    }

    private static void writeData(FileChannel channel, Pending t) throws IOException {
        if (t.bytes != null) {
            AtomicFile.writeFully(channel, ByteBuffer.wrap(t.bytes));
            return;
        }
        if (t.view != null) {
            MemorySegment data = t.view.data();
            for (long at = 0; at < data.byteSize(); at += CHUNK) {
                long n = Math.min(CHUNK, data.byteSize() - at);
                AtomicFile.writeFully(channel, ByteBuffer.wrap(data.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE)));
            }
            return;
        }
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK * t.dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at < t.floats.length; at += CHUNK) {
            int end = Math.min(t.floats.length, at + CHUNK);
            chunk.clear();
            for (int i = at; i < end; i++) {
                float v = t.floats[i];
                switch (t.dtype) {
                    case F32 -> chunk.putFloat(v);
                    case F16 -> chunk.putShort(Float.floatToFloat16(v));
                    case BF16 -> chunk.putShort(toBFloat16(v));
                }
            }
            chunk.flip();
            AtomicFile.writeFully(channel, chunk);
        }
    }

    /** fp32 -> bf16 rounding to nearest, ties to even; NaN stays a (quiet) NaN. */
    static short toBFloat16(float v) {
        if (Float.isNaN(v)) return (short) 0x7FC0;
        int bits = Float.floatToRawIntBits(v);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
