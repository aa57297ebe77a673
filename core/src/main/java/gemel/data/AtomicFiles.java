package gemel.data;

import gemel.engine.io.AtomicFile;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Path;

/**
 * Stream-style atomic writes (JSON lines, small binary files) on top of the engine's {@link AtomicFile}:
 * readers see either the old file or the complete new one, never a partial one.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** What fills the file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code content} through a buffer into a temporary file beside {@code target}, which then
     * replaces {@code target} atomically; on failure {@code target} is untouched.
     *
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    public static void write(Path target, Content content) {
        AtomicFile.write(target, channel -> {
            // not closed here: closing the stream would close the channel before AtomicFile forces it to disk
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
            content.writeTo(out);
            out.flush();
        });
    }
}
