package gemel.app;

import gemel.data.MelDataset;
import gemel.demos.DemoRetriever;
import gemel.demos.EmbeddingCache;
import gemel.demos.SentenceEncoder;
import gemel.engine.vision.BadImageException;
import gemel.engine.vision.ClipImageProcessor;
import gemel.engine.vision.ClipVisionEncoder;
import gemel.engine.vision.ImageDecoder;
import gemel.engine.vision.RgbImage;
import gemel.eval.DemonstrationPool;
import gemel.features.ImageFeatures;
import gemel.link.Demonstration;
import gemel.link.Linker;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A loaded linker with everything a mention needs besides its text: image features looked up by key
 * ({@code --features}), a CLIP encoder for image files or uploaded bytes ({@code --clip}), and
 * demonstrations retrieved from {@code --train}. Shared by {@code gemel link} and {@code gemel serve};
 * safe to use from several threads once opened. Closing it releases the model, features and encoder.
 */
public final class LinkSession implements AutoCloseable {
    private final LinkerOptions options;
    private final LinkerOptions.Loaded loaded;
    private final ImageFeatures features;          // null without --features
    private final ClipVisionEncoder encoder;       // null without --clip, or under --no-image
    private final ClipImageProcessor processor;    // with encoder
    private final ImageDecoder decoder;
    private final SentenceEncoder sentences;       // null without demonstrations
    private final DemoRetriever retriever;         // with sentences
    private final DemonstrationPool pool;          // with sentences

    private LinkSession(LinkerOptions options, LinkerOptions.Loaded loaded, ImageFeatures features, ClipVisionEncoder encoder,
                        ClipImageProcessor processor, ImageDecoder decoder, SentenceEncoder sentences, DemoRetriever retriever,
                        DemonstrationPool pool) {
        this.options = options;
        this.loaded = loaded;
        this.features = features;
        this.encoder = encoder;
        this.processor = processor;
        this.decoder = decoder;
        this.sentences = sentences;
        this.retriever = retriever;
        this.pool = pool;
    }

    /**
     * Loads the linker of {@code options}, the features, the CLIP encoder of {@code clip} (may be null) and, when
     * {@code --train} is given with {@code --demos > 0}, the demonstration retriever; {@code keep} beams are returned
     * per query. Whatever was opened is closed again when a later part fails.
     */
    static LinkSession open(LinkerOptions options, Path clip, ImageDecoder decoder, int keep, PrintStream log) throws IOException {
        options.records.refuseKeepNil("--train records are shown as demonstrations, which a NIL record cannot be");
        if (options.features == null && clip == null && !options.noImage)
            throw new IllegalArgumentException("--features (image keys) or --clip (image files) is needed for the images, or --no-image to link without them");
        boolean demos = options.train != null && options.demos > 0;
        if (options.train == null && options.demos > 0) log.println("no --train: linking without demonstrations");
        if (demos && options.features == null) throw new IllegalArgumentException("--features is needed for the demonstrations' images");
        LinkerOptions.Loaded loaded = options.load(log, keep);
        ImageFeatures features = null;
        ClipVisionEncoder encoder = null;
        try {
            features = options.features == null ? null : ImageFeatures.open(options.features);
            encoder = clip == null || options.noImage ? null : ClipVisionEncoder.load(clip);
            ClipImageProcessor processor = encoder == null ? null : ClipImageProcessor.load(clip);
            if (!demos) return new LinkSession(options, loaded, features, encoder, processor, decoder, null, null, null);
            MelDataset training = options.training("for demonstrations");
            SentenceEncoder sentences = options.sentenceEncoder();
            DemoRetriever retriever = options.retriever(training, sentences);
            DemonstrationPool pool = new DemonstrationPool(training.examples(), features, false);
            return new LinkSession(options, loaded, features, encoder, processor, decoder, sentences, retriever, pool);
        } catch (IOException | RuntimeException e) {
            if (encoder != null) encoder.close();
            if (features != null) features.close();
            loaded.close();
            throw e;
        }
    }

    public Linker linker() { return loaded.linker(); }

    /** The model folder's name, as {@code --model} gave it. */
    public String modelName() { return options.model.toAbsolutePath().normalize().getFileName().toString(); }

    public String architecture() { return loaded.model().shape().architecture(); }

    public int knowledgeBaseSize() { return loaded.knowledgeBaseSize(); }

    /** True under {@code --no-image}: images are not needed and ignored. */
    public boolean ignoresImages() { return options.noImage; }

    public boolean hasFeatures() { return features != null; }

    public boolean hasClip() { return encoder != null; }

    /** Demonstrations per mention (0 when none are retrieved). */
    public int demonstrationsPerMention() { return retriever == null ? 0 : options.demos; }

    /** The stand-in image under {@code --no-image} (the linker replaces every image by zeros anyway). */
    public float[] noImage() { return new float[0]; }

    /** The stored feature of image {@code key}, or null when {@code --features} has none (or was not given). */
    public float[] findImage(String key) { return features == null ? null : features.find(key); }

    /** The stored feature of image {@code key}; {@code where} names the input in errors. */
    public float[] imageByKey(String key, String where) {
        if (features == null) throw new IllegalArgumentException(where + ": image keys need --features");
        float[] f = features.find(key);
        if (f == null) throw new IllegalArgumentException(where + ": no image feature for '" + key + "' in " + options.features);
        return f;
    }

    /** The pooled CLIP feature [hidden] of an image file. */
    public float[] imageFromFile(Path file, String where) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(where + ": no image file " + file);
        return encode(decoder.read(file));
    }

    /** The pooled CLIP feature [hidden] of an encoded image (JPEG, PNG...); {@code name} names it in errors. */
    public float[] imageFromBytes(byte[] encoded, String name) throws BadImageException {
        return encode(decoder.decode(encoded, name));
    }

    private float[] encode(RgbImage image) {
        if (encoder == null) throw new IllegalStateException("image files need --clip");
        return encoder.encode(processor.pixelValues(image), 1, false).pooled();
    }

    /** Retrieved demonstrations for each mention, in order; empty lists when no demonstrations are retrieved. */
    public List<List<Demonstration>> demonstrations(List<String> mentions) {
        if (retriever == null) return mentions.stream().map(m -> List.<Demonstration>of()).toList();
        float[][] embedded = EmbeddingCache.embed(sentences, mentions, null);
        List<List<Demonstration>> out = new ArrayList<>(mentions.size());
        for (float[] e : embedded) out.add(pool.demonstrations(retriever.forEmbedding(e, options.demos)));
        return out;
    }

    @Override
    public void close() throws IOException {
        try {
            if (encoder != null) encoder.close();
            if (features != null) features.close();
        } finally {
            loaded.close();
        }
    }
}
