package gemel.link;

import gemel.engine.io.Checkpoint;
import gemel.engine.io.SafetensorsFile;
import gemel.engine.io.SafetensorsWriter;
import gemel.engine.io.TensorView;
import gemel.engine.io.WeightSource;
import gemel.engine.kernel.Vectors;
import gemel.engine.model.ModelShape;
import gemel.engine.tensor.DType;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one trained part of GEMEL: {@code Linear(dimClip -> width * k)} with bias, turning an image
 * feature into {@code k} visual prefix tokens of the language model's input-embedding width. It
 * belongs to one model (architecture, vocabulary, width): loading it for another is an error.
 * The arrays are live: a trainer updates {@link #weight()} and {@link #bias()} in place.
 */
public final class FeatureMapper {
    private static final String KIND = "gemel.feature_mapper";

    private final int dimClip;
    private final int width;
    private final int k;
    private final String architecture; // of the model it belongs to; "" when unknown (a reference checkpoint)
    private final int vocabSize;       // of that model; 0 when unknown
    private final float[] weight;      // [width * k, dimClip] row-major, as torch's nn.Linear stores it
    private final float[] bias;        // [width * k]

    private FeatureMapper(int dimClip, int width, int k, String architecture, int vocabSize, float[] weight, float[] bias) {
        if (dimClip < 1 || width < 1 || k < 1) throw new IllegalArgumentException("feature mapper sizes must be positive: dimClip " + dimClip + ", width " + width + ", k " + k);
        this.dimClip = dimClip;
        this.width = width;
        this.k = k;
        this.architecture = architecture;
        this.vocabSize = vocabSize;
        this.weight = weight;
        this.bias = bias;
    }

    /** A fresh mapper for {@code model}, initialised as torch's nn.Linear: weight and bias uniform in +-1/sqrt(dimClip). */
    public static FeatureMapper initial(ModelShape model, int dimClip, int k, long seed) {
        int out = Math.multiplyExact(model.inputWidth(), k);
        float[] w = new float[Math.multiplyExact(out, dimClip)], b = new float[out];
        Random rnd = new Random(seed);
        double bound = 1 / Math.sqrt(dimClip);
        for (int i = 0; i < w.length; i++) w[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        for (int i = 0; i < b.length; i++) b[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        return new FeatureMapper(dimClip, model.inputWidth(), k, model.architecture(), model.vocabSize(), w, b);
    }

    public int dimClip() { return dimClip; }

    /** Width of each produced token: the model's input-embedding width. */
    public int width() { return width; }

    /** Visual prefix tokens per image. */
    public int tokens() { return k; }

    public float[] weight() { return weight; }

    public float[] bias() { return bias; }

    /** The {@code k} embeddings [k, width] of one image feature [dimClip]. */
    public float[] map(float[] feature) {
        float[] out = new float[k * width];
        map(feature, out, 0);
        return out;
    }

    /** Writes the {@code k * width} outputs into {@code out[offset ..]}. */
    public void map(float[] feature, float[] out, int offset) {
        checkFeature(feature);
        for (int j = 0; j < k * width; j++) out[offset + j] = bias[j] + Vectors.dot(weight, j * dimClip, feature, 0, dimClip);
    }

    /**
     * Accumulates the parameter gradients of one {@link #map} call given the loss gradient
     * {@code dOut} [k * width] of its output: {@code gradW += dOut (outer) feature}, {@code gradB += dOut}.
     */
    public void backward(float[] feature, float[] dOut, float[] gradW, float[] gradB) {
        checkFeature(feature);
        if (dOut.length != k * width || gradW.length != weight.length || gradB.length != bias.length)
            throw new IllegalArgumentException("backward: dOut " + dOut.length + ", gradW " + gradW.length + ", gradB " + gradB.length
                    + " floats, expected " + k * width + ", " + weight.length + ", " + bias.length);
        for (int j = 0; j < k * width; j++) {
            gradB[j] += dOut[j];
            if (dOut[j] != 0) Vectors.axpy(dOut[j], feature, 0, gradW, j * dimClip, dimClip);
        }
    }

    private void checkFeature(float[] feature) {
        if (feature.length != dimClip) throw new IllegalArgumentException("image feature has " + feature.length + " values, the mapper takes " + dimClip);
    }

    /** Throws unless this mapper was made for {@code model} (same width; same architecture and vocabulary when known). */
    public FeatureMapper requireFits(ModelShape model, Object source) {
        boolean known = !architecture.isEmpty();
        if (width != model.inputWidth() || known && (!architecture.equals(model.architecture()) || vocabSize != model.vocabSize()))
            throw new IllegalArgumentException("feature mapper " + source + " was made for " + (known ? architecture + " (vocab " + vocabSize + ", " : "a model of (")
                    + "input width " + width + "), not for this " + model.architecture() + " (vocab " + model.vocabSize() + ", input width " + model.inputWidth() + ")");
        return this;
    }

    /** Saves as safetensors ({@code weight}, {@code bias} in fp32) with the sizes and the model in the metadata, atomically. */
    public void save(Path file) {
        new SafetensorsWriter()
                .metadata("format", KIND)
                .metadata("dim_clip", Integer.toString(dimClip))
                .metadata("width", Integer.toString(width))
                .metadata("k", Integer.toString(k))
                .metadata("architecture", architecture)
                .metadata("vocab_size", Integer.toString(vocabSize))
                .add("weight", DType.F32, new long[] {(long) width * k, dimClip}, weight)
                .add("bias", DType.F32, new long[] {(long) width * k}, bias)
                .write(file);
    }

    /**
     * Loads a mapper for {@code model}: one saved by {@link #save}, or a reference checkpoint
     * ({@code torch.save} of the nn.Linear state dict, e.g. {@code opt-6.7b_wikidiverse_linear_4token_16examples_82_77.pkl}),
     * whose {@code k} is its weight rows over the model's width. A mapper of another model is an error.
     */
    public static FeatureMapper load(Path file, ModelShape model) {
        try (WeightSource source = Checkpoint.open(file)) {
            TensorView w = source.tensor(parameterName(source, "weight", file));
            TensorView b = source.tensor(parameterName(source, "bias", file));
            if (w.rank() != 2 || b.rank() != 1 || b.dim(0) != w.dim(0))
                throw new IllegalArgumentException(file + ": weight " + w + " and bias " + b + " are not those of a linear layer");
            int rows = w.dim(0), dimClip = w.dim(1);
            FeatureMapper mapper;
            if (source instanceof SafetensorsFile st && KIND.equals(st.metadata().get("format"))) {
                Map<String, String> meta = st.metadata();
                int width = intMeta(meta, "width", file), k = intMeta(meta, "k", file);
                if (rows != width * k || dimClip != intMeta(meta, "dim_clip", file))
                    throw new IllegalArgumentException(file + ": metadata (width " + width + ", k " + k + ") disagrees with weight " + w);
                mapper = new FeatureMapper(dimClip, width, k, meta.getOrDefault("architecture", ""), intMeta(meta, "vocab_size", file), w.toFloats(), b.toFloats());
            } else {
                if (rows % model.inputWidth() != 0)
                    throw new IllegalArgumentException("feature mapper " + file + " has " + rows + " output rows, not a multiple of this "
                            + model.architecture() + "'s input width " + model.inputWidth() + ": it was trained for another model");
                mapper = new FeatureMapper(dimClip, model.inputWidth(), rows / model.inputWidth(), "", 0, w.toFloats(), b.toFloats());
            }
            return mapper.requireFits(model, file);
        }
    }

    /** {@code name}, or the single {@code prefix.name} of a state dict saved from a wrapping module. */
    private static String parameterName(WeightSource source, String name, Path file) {
        if (source.contains(name)) return name;
        Set<String> matches = new TreeSet<>();
        for (String n : source.names()) if (n.endsWith("." + name)) matches.add(n);
        if (matches.size() == 1) return matches.iterator().next();
        throw new IllegalArgumentException(file + ": expected one linear layer (tensors \"weight\" and \"bias\"), found " + new TreeSet<>(source.names()));
    }

    private static int intMeta(Map<String, String> meta, String key, Path file) {
        String v = meta.get(key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException(file + ": metadata \"" + key + "\" is " + (v == null ? "missing" : "not an integer: " + v));
        }
    }
}
