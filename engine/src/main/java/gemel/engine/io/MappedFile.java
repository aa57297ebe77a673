package gemel.engine.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How a weight file is mapped and released, shared by the formats whose tensors are views into the
 * mapping ({@link SafetensorsFile}, {@link TorchCheckpoint}). The mapping lives in a shared arena
 * (tensors are read from every core) until the format's {@code close}; if reading the file fails,
 * the arena is released before the error passes on, so a bad file leaves nothing mapped.
 */
final class MappedFile {
    private MappedFile() {}

    /** Reads a mapped file into a format's object, which then owns the arena. */
    interface Reader<T> {
        T read(Path file, Arena arena, MemorySegment all);
    }

    /** Maps {@code file} read-only and hands it to {@code reader}. */
    static <T> T open(Path file, Reader<T> reader) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment all = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return reader.read(file, arena, all);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException(file + ": cannot map: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Unmaps; closing twice is harmless. */
    static void close(Arena arena) {
        if (arena.scope().isAlive()) arena.close();
    }
}
