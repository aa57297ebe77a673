package gemel.engine.io;

import gemel.engine.io.TorchPickle.StorageRef;
import gemel.engine.io.TorchPickle.TensorRef;
import gemel.engine.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A state dict saved by {@code torch.save} (PyTorch 1.6 or later: a zip holding {@code data.pkl}
 * and one raw entry per storage). The zip is mapped once and each tensor is a view into its
 * storage entry, so nothing is copied. The pickle goes through {@link TorchPickle}, which runs no
 * code.
 *
 * <p>Loading is lazy per tensor: the structure of every entry is checked at open (a tensor, its
 * storage present), but dtype, contiguity and bounds only when {@link #tensor} asks for it. So a
 * model whose state dict carries buffers gemel never reads (int64 {@code position_ids}, say) opens
 * fine, and asking for such a tensor is an error naming it and its storage type.
 */
public final class TorchCheckpoint implements WeightSource {
    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};

    private final Path file;
    private final Arena arena;
    private final Map<String, TensorRef> tensors;
    private final Map<String, MemorySegment> storages;

    private TorchCheckpoint(Path file, Arena arena, Map<String, TensorRef> tensors, Map<String, MemorySegment> storages) {
        this.file = file;
        this.arena = arena;
        this.tensors = tensors;
        this.storages = storages;
    }

    /** Maps {@code file} and reads its state dict; the mapping lives until {@link #close()}. */
    public static TorchCheckpoint open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment all = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return read(file, arena, all);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException(file + ": cannot map: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static TorchCheckpoint read(Path file, Arena arena, MemorySegment all) {
        byte[] head = all.asSlice(0, Math.min(4, all.byteSize())).toArray(ValueLayout.JAVA_BYTE);
        if (!Arrays.equals(head, ZIP_MAGIC)) {
            if (head.length > 0 && (head[0] & 0xff) == 0x80)
                throw new IllegalArgumentException(file + ": legacy PyTorch format (torch.save before 1.6, or with "
                        + "_use_new_zipfile_serialization=False) is not supported; re-save it with a recent torch.save");
            throw new IllegalArgumentException(file + ": not a PyTorch checkpoint (no zip signature)");
        }
        Map<String, MemorySegment> entries = StoredZip.entries(file, all);
        String prefix = archivePrefix(file, entries);
        MemorySegment byteOrder = entries.get(prefix + "byteorder");
        if (byteOrder != null) {
            String order = new String(byteOrder.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).strip();
            if (!order.equals("little"))
                throw new IllegalArgumentException(file + ": storages are " + order + "-endian; gemel reads little-endian checkpoints only");
        }
        Object root = TorchPickle.load(file.toString(), entries.get(prefix + "data.pkl"));
        if (!(root instanceof Map<?, ?> dict))
            throw new IllegalArgumentException(file + ": holds a " + (root == null ? "None" : root.getClass().getSimpleName()) + ", not a state dict");
        Map<String, TensorRef> tensors = new LinkedHashMap<>();
        Map<String, MemorySegment> storages = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String name))
                throw new IllegalArgumentException(file + ": state dict key " + e.getKey() + " is not a string");
            if (!(e.getValue() instanceof TensorRef t))
                throw new IllegalArgumentException(file + ": entry " + name + " is a "
                        + (e.getValue() == null ? "None" : e.getValue().getClass().getSimpleName()) + ", not a tensor (a state dict holds only tensors)");
            String entry = prefix + "data/" + t.storage().key();
            MemorySegment storage = entries.get(entry);
            if (storage == null) throw new IllegalArgumentException(file + ": tensor " + name + " needs zip entry " + entry + ", which is missing");
            tensors.put(name, t);
            storages.put(t.storage().key(), storage);
        }
        return new TorchCheckpoint(file, arena, Collections.unmodifiableMap(tensors), storages);
    }

    /** torch.save names the archive's top folder after the file; find it from the one {@code data.pkl}. */
    private static String archivePrefix(Path file, Map<String, MemorySegment> entries) {
        String found = null;
        for (String name : entries.keySet()) {
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                if (found != null) throw new IllegalArgumentException(file + ": more than one data.pkl in the archive");
                found = name.substring(0, slash + 1);
            }
        }
        if (found == null) throw new IllegalArgumentException(file + ": zip without a <archive>/data.pkl: not a torch.save checkpoint");
        return found;
    }

    public Path file() { return file; }

    @Override
    public Set<String> names() { return tensors.keySet(); }

    @Override
    public TensorView tensor(String name) {
        TensorRef t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException(file + ": no tensor " + name);
        StorageRef s = t.storage();
        DType dtype = switch (s.type()) {
            case "FloatStorage" -> DType.F32;
            case "HalfStorage" -> DType.F16;
            case "BFloat16Storage" -> DType.BF16;
            default -> throw new IllegalArgumentException(file + ": tensor " + name + " is stored as " + s.type()
                    + "; gemel reads FloatStorage, HalfStorage, BFloat16Storage weights");
        };
        long elements = 1, expectedStride = 1;
        for (int i = t.size().length - 1; i >= 0; i--) {
            if (t.size()[i] != 1 && t.stride()[i] != expectedStride)
                throw new IllegalArgumentException(file + ": tensor " + name + " is not contiguous (size " + Arrays.toString(t.size())
                        + ", stride " + Arrays.toString(t.stride()) + "); save it after .contiguous()");
            expectedStride *= t.size()[i];
            elements = Math.multiplyExact(elements, t.size()[i]);
        }
        MemorySegment storage = storages.get(s.key());
        long storageBytes = Math.multiplyExact(s.elements(), (long) dtype.bytes());
        if (storage.byteSize() < storageBytes)
            throw new IllegalArgumentException(file + ": tensor " + name + ": storage " + s.key() + " should hold " + storageBytes
                    + " bytes but its zip entry has " + storage.byteSize());
        if (t.offset() < 0 || t.offset() + elements > s.elements())
            throw new IllegalArgumentException(file + ": tensor " + name + " (offset " + t.offset() + ", " + elements
                    + " elements) runs past its storage of " + s.elements());
        return new TensorView(name, file, dtype, t.size().clone(), storage.asSlice(t.offset() * dtype.bytes(), elements * dtype.bytes()));
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
