package gemel.app;

import gemel.batch.Shard;
import gemel.engine.vision.ClipImageProcessor;
import gemel.engine.vision.ClipVisionEncoder;
import gemel.engine.vision.ImageDecoder;
import gemel.features.Hdf5FeatureWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gemel features}: CLIP image features of a folder of images (or of a list of image files)
 * into an HDF5 file, one float32 dataset per image, as the reference's precomputed
 * {@code clip_vit_large_patch14_1024.hdf5}. Finished batches go to an append-only journal beside the
 * output, so an interrupted run resumes where it stopped; the HDF5 file is written at the end, in
 * one atomic step. Images that cannot be used are reported with the reason and skipped.
 */
@Command(name = "features", mixinStandardHelpOptions = true,
        description = "Computes CLIP image features (the vision tower's pooled output) into an HDF5 file.")
public final class FeaturesCommand implements Callable<Integer> {
    private static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp");

    /** Which name each dataset gets. */
    enum KeyKind { name, url }

    /** Which output of the vision tower is stored. */
    enum Feature { pooled, projected }

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "CLIP folder as downloaded (config.json, preprocessor_config.json, weights).")
    Path model;

    @Option(names = "--images", required = true,
            description = "A folder of images, or a text file with one image path per line (optionally: path<TAB>key).")
    Path images;

    @Option(names = "--out", required = true, description = "The HDF5 file to write.")
    Path out;

    @Option(names = "--key", defaultValue = "name",
            description = "Dataset names: 'name' = file name without extension, 'url' = the key column of the list (else the line as written). Default: ${DEFAULT-VALUE}.")
    KeyKind key;

    @Option(names = "--batch", defaultValue = "8", description = "Images encoded together. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--feature", defaultValue = "pooled",
            description = "'pooled' (post-layernorm class token, what GEMEL uses) or 'projected' (after visual_projection). Default: ${DEFAULT-VALUE}.")
    Feature feature;

    @Option(names = "--row", description = "Store each feature as [1, d] instead of [d].")
    boolean row;

    @Option(names = "--shard", defaultValue = "0/1", paramLabel = "I/N",
            description = "Encode only shard I of N of the images (image k of the sorted folder or of the list when k %% N == I), e.g. one shard per "
                    + "machine, each with its own --out in one folder: commands given that folder as --features read its files as one. Default: all images.")
    String shard;

    @Option(names = "--max-pixels", description = "Refuse images with more pixels (decompression bombs). Default: Pillow's limit, 2 x 89478485.")
    long maxPixels = 2 * ImageDecoder.PILLOW_MAX_IMAGE_PIXELS;

    /** One image to encode: where it is and the dataset name it gets. */
    record Item(Path file, String key) {}

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        try {
            return run(err);
        } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            err.println("gemel features: " + e.getMessage());
            return 2;
        }
    }

    private int run(PrintWriter err) throws IOException {
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        Shard part = Shard.parse(shard);
        List<Item> all = listItems();
        if (all.isEmpty()) throw new IllegalArgumentException("no images in " + images);
        List<Item> items = IntStream.range(0, all.size()).filter(part::holds).mapToObj(all::get).toList();
        if (items.isEmpty()) throw new IllegalArgumentException("shard " + part + " of " + all.size() + " images holds none");
        if (!part.equals(Shard.WHOLE)) err.printf("features: shard %s, %d of %d images%n", part, items.size(), all.size());
        ClipImageProcessor processor = ClipImageProcessor.load(model);
        ImageDecoder decoder = new ImageDecoder(maxPixels);
        try (ClipVisionEncoder encoder = ClipVisionEncoder.load(model)) {
            if (feature == Feature.projected && encoder.projectionDim() == 0)
                throw new IllegalArgumentException(model + ": the checkpoint has no visual_projection; use --feature pooled");
            int side = encoder.config().imageSize();
            if (processor.outputHeight() != side || processor.outputWidth() != side)
                throw new IllegalArgumentException(model + ": preprocessor_config.json makes "
                        + (processor.outputHeight() < 0 ? "images whose size depends on the input (no center crop)" : processor.outputHeight() + "x" + processor.outputWidth() + " images")
                        + ", the model takes " + side + "x" + side);
            int dim = feature == Feature.projected ? encoder.projectionDim() : encoder.config().hiddenSize();
            Path journalFile = out.resolveSibling(out.getFileName() + ".journal");
            try (Journal journal = Journal.open(journalFile, dim, modelIdentity(dim))) {
                Map<String, float[]> done = journal.features();
                List<Item> todo = items.stream().filter(i -> !done.containsKey(i.key())).toList();
                int resumed = items.size() - todo.size();
                if (resumed > 0) err.printf("features: resuming, %d of %d images already done (%s)%n", resumed, items.size(), journalFile);
                List<String> failures = new ArrayList<>();
                Progress progress = new Progress(err, todo.size());
                for (int from = 0; from < todo.size(); from += batch) {
                    List<Item> chunk = todo.subList(from, Math.min(todo.size(), from + batch));
                    encodeBatch(chunk, processor, decoder, encoder, journal, failures, err);
                    progress.update(from + chunk.size(), failures.size());
                }
                Map<String, float[]> features = new LinkedHashMap<>();
                Map<String, float[]> journaled = journal.features();
                for (Item i : items) if (journaled.containsKey(i.key())) features.put(i.key(), journaled.get(i.key()));
                if (features.isEmpty()) {
                    err.printf("features: none of the %d images could be used; nothing written%n", items.size());
                    return 1;
                }
                Hdf5FeatureWriter.write(out, features, row ? Hdf5FeatureWriter.Shape.ROW : Hdf5FeatureWriter.Shape.VECTOR);
                err.printf("features: wrote %d features of %d values to %s (%d from an earlier run)%n", features.size(), dim, out, resumed);
                if (failures.isEmpty()) {
                    journal.delete();
                    return 0;
                }
                err.printf("features: %d images could not be used (the journal %s stays, so a rerun only retries them):%n", failures.size(), journalFile);
                failures.forEach(f -> err.println("  " + f));
                return 1;
            }
        }
    }

    /** Decodes and preprocesses a batch in parallel, encodes the usable images, journals their features. */
    private void encodeBatch(List<Item> chunk, ClipImageProcessor processor, ImageDecoder decoder, ClipVisionEncoder encoder,
                             Journal journal, List<String> failures, PrintWriter err) throws IOException {
        float[][] pixels = new float[chunk.size()][];
        String[] problems = new String[chunk.size()];
        IntStream.range(0, chunk.size()).parallel().forEach(i -> {
            try {
                pixels[i] = processor.pixelValues(decoder.read(chunk.get(i).file()));
            } catch (IOException | RuntimeException e) {
                problems[i] = e.getMessage() != null && e.getMessage().contains(chunk.get(i).file().toString())
                        ? e.getMessage() : chunk.get(i).file() + ": " + e;
            }
        });
        List<Integer> usable = new ArrayList<>();
        for (int i = 0; i < chunk.size(); i++) {
            if (problems[i] == null) {
                usable.add(i);
            } else {
                failures.add(problems[i]);
                err.println("features: skipped " + problems[i]);
            }
        }
        if (usable.isEmpty()) return;
        int per = pixels[usable.get(0)].length;
        float[] input = new float[usable.size() * per];
        for (int j = 0; j < usable.size(); j++) System.arraycopy(pixels[usable.get(j)], 0, input, j * per, per);
        ClipVisionEncoder.Output output = encoder.encode(input, usable.size(), false);
        float[] values = feature == Feature.projected ? output.projected() : output.pooled();
        int dim = values.length / usable.size();
        List<String> keys = new ArrayList<>();
        List<float[]> vectors = new ArrayList<>();
        for (int j = 0; j < usable.size(); j++) {
            keys.add(chunk.get(usable.get(j)).key());
            vectors.add(Arrays.copyOfRange(values, j * dim, (j + 1) * dim));
        }
        journal.append(keys, vectors);
    }

    /** The images named by {@code --images}, in a stable order, with distinct keys. */
    List<Item> listItems() throws IOException {
        List<Item> items = new ArrayList<>();
        if (Files.isDirectory(images)) {
            if (key == KeyKind.url) throw new IllegalArgumentException("--key url needs a list file for --images, not a folder");
            try (Stream<Path> files = Files.list(images)) {
                files.filter(Files::isRegularFile).filter(f -> IMAGE_EXTENSIONS.contains(extension(f))).sorted()
                        .forEach(f -> items.add(new Item(f, baseName(f))));
            }
        } else if (Files.isRegularFile(images)) {
            Path base = images.toAbsolutePath().getParent();
            List<String> lines = Files.readAllLines(images, StandardCharsets.UTF_8);
            for (int n = 0; n < lines.size(); n++) {
                String line = lines.get(n).strip();
                if (line.isEmpty()) continue;
                String[] cols = line.split("\t");
                if (cols.length > 2) throw new IllegalArgumentException(images + ":" + (n + 1) + ": expected 'path' or 'path<TAB>key', got " + cols.length + " columns");
                Path file = base.resolve(cols[0].strip());
                String k = key == KeyKind.name ? baseName(file) : cols.length == 2 ? cols[1].strip() : cols[0].strip();
                items.add(new Item(file, k));
            }
        } else {
            throw new IllegalArgumentException("--images " + images + ": no such folder or list file");
        }
        Map<String, Item> seen = new HashMap<>();
        for (Item i : items) {
            Item before = seen.putIfAbsent(i.key(), i);
            if (before != null)
                throw new IllegalArgumentException("two images get the key \"" + i.key() + "\": " + before.file() + " and " + i.file()
                        + (key == KeyKind.name ? " (use a list file with --key url to name them)" : ""));
        }
        return items;
    }

    /** What makes features comparable: the model's configs, its weight files, the feature chosen. */
    private byte[] modelIdentity(int dim) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Files.readAllBytes(model.resolve("config.json")));
            sha.update(Files.readAllBytes(model.resolve("preprocessor_config.json")));
            try (Stream<Path> files = Files.list(model)) {
                for (Path f : files.sorted().toList())
                    if (f.getFileName().toString().matches(".*\\.(safetensors|bin)"))
                        sha.update((f.getFileName() + ":" + Files.size(f) + ";").getBytes(StandardCharsets.UTF_8));
            }
            sha.update((feature + ":" + dim).getBytes(StandardCharsets.UTF_8));
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String extension(Path f) {
        String n = f.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    private static String baseName(Path f) {
        String n = f.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot <= 0 ? n : n.substring(0, dot);
    }

    /**
     * Features finished so far, appended batch by batch and forced to disk. Layout: the magic
     * {@code GEMELFJ1}, the feature width (int32), the 32-byte model identity; then records of key
     * length (int32), UTF-8 key, {@code dim} float32 values and a CRC32 of all that, little-endian.
     * A torn record at the end (a crash mid-write) is cut off when the journal is reopened.
     */
    static final class Journal implements AutoCloseable {
        private static final byte[] MAGIC = "GEMELFJ1".getBytes(StandardCharsets.US_ASCII);
        private static final int HEADER = MAGIC.length + 4 + 32;

        private final Path file;
        private final FileChannel channel;
        private final int dim;
        private final Map<String, float[]> features = new LinkedHashMap<>();

        private Journal(Path file, FileChannel channel, int dim) {
            this.file = file;
            this.channel = channel;
            this.dim = dim;
        }

        static Journal open(Path file, int dim, byte[] identity) throws IOException {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                Journal journal = new Journal(file, channel, dim);
                if (channel.size() < HEADER) {
                    ByteBuffer header = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN).put(MAGIC).putInt(dim).put(identity).flip();
                    channel.truncate(0);
                    channel.write(header, 0);
                    channel.force(true);
                } else {
                    journal.replay(identity);
                }
                channel.position(channel.size());
                return journal;
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }

        private void replay(byte[] identity) throws IOException {
            if (channel.size() > Integer.MAX_VALUE)
                throw new IllegalStateException(file + ": journal over 2 GB; write the features in several runs (split the image list)");
            ByteBuffer all = ByteBuffer.allocate((int) channel.size()).order(ByteOrder.LITTLE_ENDIAN);
            while (all.hasRemaining() && channel.read(all, all.position()) >= 0) { /* read it whole */ }
            all.flip();
            byte[] magic = new byte[MAGIC.length], id = new byte[32];
            all.get(magic);
            int storedDim = all.getInt();
            all.get(id);
            if (!Arrays.equals(magic, MAGIC)) throw new IllegalArgumentException(file + ": not a gemel features journal");
            if (storedDim != dim || !Arrays.equals(id, identity))
                throw new IllegalArgumentException(file + ": this journal holds features of another model or feature kind; "
                        + "delete it to start over, or choose another --out");
            long good = all.position();
            while (all.remaining() >= 4) {
                int start = all.position();
                int keyLength = all.getInt();
                if (keyLength <= 0 || all.remaining() < (long) keyLength + 4L * dim + 4) break;
                byte[] k = new byte[keyLength];
                all.get(k);
                float[] v = new float[dim];
                all.asFloatBuffer().get(v);
                all.position(all.position() + 4 * dim);
                CRC32 crc = new CRC32();
                crc.update(all.array(), start, all.position() - start);
                if ((int) crc.getValue() != all.getInt()) break;
                features.put(new String(k, StandardCharsets.UTF_8), v);
                good = all.position();
            }
            if (good < channel.size()) channel.truncate(good);
        }

        /** Everything journaled so far, key to feature. */
        Map<String, float[]> features() { return features; }

        void append(List<String> keys, List<float[]> vectors) throws IOException {
            int size = 0;
            List<byte[]> encoded = new ArrayList<>();
            for (String k : keys) {
                byte[] b = k.getBytes(StandardCharsets.UTF_8);
                encoded.add(b);
                size += 4 + b.length + 4 * dim + 4;
            }
            ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < keys.size(); i++) {
                int start = buf.position();
                buf.putInt(encoded.get(i).length).put(encoded.get(i));
                for (float x : vectors.get(i)) buf.putFloat(x);
                CRC32 crc = new CRC32();
                crc.update(buf.array(), start, buf.position() - start);
                buf.putInt((int) crc.getValue());
            }
            buf.flip();
            while (buf.hasRemaining()) channel.write(buf);
            channel.force(false);
            for (int i = 0; i < keys.size(); i++) features.put(keys.get(i), vectors.get(i));
        }

        void delete() throws IOException {
            channel.close();
            Files.deleteIfExists(file);
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot close: " + e.getMessage(), e);
            }
        }
    }

    /** One progress line at most every two seconds, and one at the end: done, rate, time left. */
    private static final class Progress {
        private final PrintWriter err;
        private final int total;
        private final long start = System.nanoTime();
        private long lastPrint;

        Progress(PrintWriter err, int total) {
            this.err = err;
            this.total = total;
        }

        void update(int done, int failed) {
            long now = System.nanoTime();
            if (done < total && now - lastPrint < 2_000_000_000L) return;
            lastPrint = now;
            double seconds = Math.max(1e-9, (now - start) / 1e9);
            double rate = done / seconds;
            long eta = rate > 0 ? Math.round((total - done) / rate) : 0;
            err.printf(Locale.ROOT, "features: %d/%d images (%d unusable), %.2f images/s, ETA %dm%02ds%n",
                    done, total, failed, rate, eta / 60, eta % 60);
            err.flush();
        }
    }
}
