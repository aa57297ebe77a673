package gemel.demos;

import gemel.engine.io.AtomicFile;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Sentence embeddings kept on disk so that the training mentions are embedded once per encoder. A cache
 * file is keyed by the encoder's id and a SHA-256 of the exact texts embedded (so a changed training file,
 * or other reading options, give another key). File layout (little-endian): {@code "GEMELEM1"}, int32
 * count, int32 dim, float32[count][dim]. Files are written atomically; a damaged one is an error naming it.
 */
public final class EmbeddingCache {
    private static final byte[] MAGIC = "GEMELEM1".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER_BYTES = 16;
    private static final int BATCH = 128;

    private final Path dir;

    public EmbeddingCache(Path dir) { this.dir = dir; }

    /** The embeddings of {@code texts}, read from the cache or computed (with progress) and stored. */
    public float[][] embeddings(SentenceEncoder encoder, List<String> texts, PrintStream progress) throws IOException {
        Path file = fileFor(encoder, texts);
        if (Files.isRegularFile(file)) {
            if (progress != null) progress.println("embeddings: reusing " + file);
            return read(file, texts.size());
        }
        float[][] embeddings = embed(encoder, texts, progress);
        write(file, embeddings);
        return embeddings;
    }

    /** Where the embeddings of {@code texts} by {@code encoder} are (or would be) cached. */
    public Path fileFor(SentenceEncoder encoder, List<String> texts) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (String t : texts) {
            sha.update(t.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);   // texts never hold NUL, so the joined bytes are unambiguous
        }
        String hash = HexFormat.of().formatHex(sha.digest(), 0, 12);
        String safeId = encoder.id().replaceAll("[^A-Za-z0-9._-]", "_");
        return dir.resolve(safeId + "-" + texts.size() + "-" + hash + ".emb");
    }

    /** Embeds in batches, reporting items done, rate and time left. */
    public static float[][] embed(SentenceEncoder encoder, List<String> texts, PrintStream progress) {
        float[][] out = new float[texts.size()][];
        ProgressMeter meter = new ProgressMeter(progress, "embedding with " + encoder.id(), texts.size());
        for (int from = 0; from < texts.size(); from += BATCH) {
            int to = Math.min(texts.size(), from + BATCH);
            float[][] batch = encoder.embed(texts.subList(from, to));
            if (batch.length != to - from)
                throw new IllegalStateException(encoder.id() + " returned " + batch.length + " vectors for " + (to - from) + " texts");
            System.arraycopy(batch, 0, out, from, batch.length);
            meter.advance(batch.length);
        }
        return out;
    }

    private static void write(Path file, float[][] embeddings) throws IOException {
        int dim = embeddings.length == 0 ? 0 : embeddings[0].length;
        AtomicFile.writeStream(file, out -> {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            header.put(MAGIC).putInt(embeddings.length).putInt(dim);
            out.write(header.array());
            ByteBuffer row = ByteBuffer.allocate(dim * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float[] e : embeddings) {
                if (e.length != dim) throw new IllegalStateException("embeddings of different lengths: " + e.length + " vs " + dim);
                row.clear();
                for (float f : e) row.putFloat(f);
                out.write(row.array());
            }
        });
    }

    static float[][] read(Path file, int expectedCount) throws IOException {
        try (InputStream in = Files.newInputStream(file); DataInputStream data = new DataInputStream(in)) {
            byte[] headerBytes = new byte[HEADER_BYTES];
            data.readFully(headerBytes);
            ByteBuffer header = ByteBuffer.wrap(headerBytes).order(ByteOrder.LITTLE_ENDIAN);
            byte[] magic = new byte[MAGIC.length];
            header.get(magic);
            int count = header.getInt();
            int dim = header.getInt();
            long expectedSize = HEADER_BYTES + (long) count * dim * 4;
            if (!Arrays.equals(magic, MAGIC) || count != expectedCount || dim < 0 || Files.size(file) != expectedSize)
                throw new IOException(file + ": damaged embedding cache (holds " + count + " x " + dim + ", expected "
                        + expectedCount + " rows, size " + Files.size(file) + " bytes); delete it to recompute");
            float[][] out = new float[count][dim];
            byte[] rowBytes = new byte[dim * 4];
            for (float[] row : out) {
                data.readFully(rowBytes);
                ByteBuffer.wrap(rowBytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(row);
            }
            return out;
        } catch (java.io.EOFException e) {
            throw new IOException(file + ": truncated embedding cache; delete it to recompute", e);
        }
    }
}
