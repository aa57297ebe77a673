package gemel.features;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Streams vectors into a {@link FeatureStore} file: vectors go to a temporary file beside the target as
 * they come, {@link #commit()} appends the keys, fills in the header and moves the file into place
 * atomically. Closing without committing deletes the temporary file and leaves the target untouched.
 */
public final class FeatureStoreWriter implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path target;
    private final Path tmp;
    private final int dim;
    private final OutputStream out;
    private final List<String> keys = new ArrayList<>();
    private final Set<String> seen = new HashSet<>();
    private final ByteBuffer row;
    private boolean done;

    public FeatureStoreWriter(Path target, int dim) throws IOException {
        if (dim <= 0) throw new IllegalArgumentException("feature dimension must be positive, got " + dim);
        this.target = target;
        this.dim = dim;
        this.tmp = temporaryBeside(target);
        this.out = new BufferedOutputStream(Files.newOutputStream(tmp, StandardOpenOption.WRITE), 1 << 16);
        this.row = ByteBuffer.allocate(dim * 4).order(ByteOrder.LITTLE_ENDIAN);
        out.write(new byte[FeatureStore.HEADER_BYTES]);   // filled in by commit()
    }

    /**
     * A new empty hidden file in {@code target}'s folder, with the permissions of an ordinary new file
     * (unlike {@link Files#createTempFile}, which makes it owner-only).
     */
    private static Path temporaryBeside(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
            try {
                Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 10) throw e;
            }
        }
    }

    /** Appends the vector of {@code key}; keys must be distinct and vectors {@code dim} long. */
    public void add(String key, float[] vector) throws IOException {
        if (done) throw new IllegalStateException("writer of " + target + " is closed");
        if (vector.length != dim)
            throw new IllegalArgumentException("vector for '" + key + "' has " + vector.length + " values, expected " + dim);
        if (!seen.add(key)) throw new IllegalArgumentException("image key '" + key + "' added twice to " + target);
        row.clear();
        for (float f : vector) row.putFloat(f);
        out.write(row.array());
        keys.add(key);
    }

    public int count() { return keys.size(); }

    /** Writes the keys and the header, then replaces {@code target} with the complete file. */
    public void commit() throws IOException {
        if (done) throw new IllegalStateException("writer of " + target + " is closed");
        ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        for (String key : keys) {
            byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
            out.write(len.clear().putInt(utf8.length).array());
            out.write(utf8);
        }
        out.close();
        ByteBuffer header = ByteBuffer.allocate(FeatureStore.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.put(FeatureStore.MAGIC).putInt(dim).putInt(keys.size())
                .putLong(FeatureStore.HEADER_BYTES + (long) keys.size() * dim * 4);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.write(header.clear(), 0);
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        done = true;
    }

    @Override
    public void close() throws IOException {
        if (done) return;
        done = true;
        out.close();
        Files.deleteIfExists(tmp);
    }
}
