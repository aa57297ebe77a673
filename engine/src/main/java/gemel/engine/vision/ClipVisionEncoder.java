package gemel.engine.vision;

import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.TensorView;
import gemel.engine.io.WeightSource;
import gemel.engine.kernel.Attention;
import gemel.engine.kernel.LayerNorm;
import gemel.engine.kernel.MatMul;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CLIP's vision tower as transformers' {@code CLIPVisionTransformer} runs it: patch embedding (a
 * stride-p convolution without bias, done as a product with the flattened kernel), class token and
 * learned positions, {@code pre_layrnorm}, pre-norm encoder layers with bidirectional attention and
 * {@code hidden_act} (quick_gelu) in the MLP, then {@code post_layernorm} of the class token: the
 * pooled output. With {@code visual_projection.weight} present it also gives the projected embedding.
 * Weights stay in their stored dtype (views over the mapped checkpoint); activations are fp32.
 * Immutable once loaded; {@link #encode} may be called from several threads.
 */
public final class ClipVisionEncoder implements AutoCloseable {
    private static final String PREFIX = "vision_model.";

    private final ClipVisionConfig config;
    private final WeightSource weights;
    private final TensorView patchKernel;   // [hidden, channels * patch * patch]
    private final float[] classEmbedding;   // [hidden]
    private final float[] positions;        // [tokens, hidden]
    private final LayerNorm preNorm, postNorm;
    private final Layer[] layers;
    private final TensorView projection;    // [projectionDim, hidden] or null

    /** One encoder layer; linear weights [out, in], biases [out]. */
    private record Layer(LayerNorm norm1, TensorView q, float[] qBias, TensorView k, float[] kBias, TensorView v, float[] vBias,
                         TensorView out, float[] outBias, LayerNorm norm2, TensorView fc1, float[] fc1Bias, TensorView fc2, float[] fc2Bias) {}

    /** What {@link #encode} returns for a batch of {@code batch} images. */
    public record Output(int batch,
                         float[] pooled /* [batch, hidden] */,
                         float[] projected /* [batch, projectionDim] or null */,
                         List<float[]> hiddenStates /* layers + 1 of [batch, tokens, hidden], or empty */) {}

    public ClipVisionEncoder(ClipVisionConfig config, WeightSource weights) {
        this.config = config;
        this.weights = weights;
        int d = config.hiddenSize(), p = config.patchSize(), c = config.channels();
        if (!weights.contains(PREFIX + "embeddings.class_embedding"))
            throw new IllegalArgumentException("no CLIP vision weights (" + PREFIX + "embeddings.class_embedding) among " + weights.names().size()
                    + " tensors; expected a CLIPModel, CLIPVisionModel or CLIPVisionModelWithProjection checkpoint");
        TensorView conv = tensor("embeddings.patch_embedding.weight").requireShape(d, c, p, p);
        patchKernel = new TensorView(conv.name(), conv.file(), conv.dtype(), new long[] {d, (long) c * p * p}, conv.data());
        if (weights.contains(PREFIX + "embeddings.patch_embedding.bias"))
            throw new IllegalArgumentException(conv.file() + ": unexpected " + PREFIX + "embeddings.patch_embedding.bias (CLIP's patch embedding has none)");
        classEmbedding = tensor("embeddings.class_embedding").requireShape(d).toFloats();
        positions = tensor("embeddings.position_embedding.weight").requireShape(config.tokens(), d).toFloats();
        preNorm = norm("pre_layrnorm");
        postNorm = norm("post_layernorm");
        layers = new Layer[config.layers()];
        int f = config.intermediateSize();
        for (int i = 0; i < layers.length; i++) {
            String l = "encoder.layers." + i + ".";
            layers[i] = new Layer(norm(l + "layer_norm1"),
                    matrix(l + "self_attn.q_proj.weight", d, d), vector(l + "self_attn.q_proj.bias", d),
                    matrix(l + "self_attn.k_proj.weight", d, d), vector(l + "self_attn.k_proj.bias", d),
                    matrix(l + "self_attn.v_proj.weight", d, d), vector(l + "self_attn.v_proj.bias", d),
                    matrix(l + "self_attn.out_proj.weight", d, d), vector(l + "self_attn.out_proj.bias", d),
                    norm(l + "layer_norm2"),
                    matrix(l + "mlp.fc1.weight", f, d), vector(l + "mlp.fc1.bias", f),
                    matrix(l + "mlp.fc2.weight", d, f), vector(l + "mlp.fc2.bias", d));
        }
        if (weights.contains(PREFIX + "encoder.layers." + layers.length + ".layer_norm1.weight"))
            throw new IllegalArgumentException("the checkpoint has more than the " + layers.length + " layers its config declares");
        if (weights.contains("visual_projection.weight")) {
            TensorView w = weights.tensor("visual_projection.weight");
            if (w.rank() != 2 || w.dim(1) != d) throw new IllegalArgumentException(w.file() + ": visual_projection.weight " + w + " does not take " + d + " inputs");
            projection = w;
        } else {
            projection = null;
        }
    }

    /** Loads the vision tower of the CLIP checkpoint in folder {@code dir} (config.json + weights). */
    public static ClipVisionEncoder load(Path dir) {
        ClipVisionConfig config = ClipVisionConfig.from(HfConfig.load(dir));
        WeightSource weights = Checkpoint.open(dir);
        try {
            return new ClipVisionEncoder(config, weights);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    public ClipVisionConfig config() { return config; }

    /** Width of the projected embedding, 0 when the checkpoint has no {@code visual_projection}. */
    public int projectionDim() { return projection == null ? 0 : projection.dim(0); }

    /**
     * Encodes {@code batch} images whose pixel values {@code [batch, channels, imageSize, imageSize]}
     * come from {@link ClipImageProcessor}; with {@code keepHiddenStates} the output also holds the
     * input of the first layer and the output of each layer (as transformers' {@code hidden_states}).
     */
    public Output encode(float[] pixels, int batch, boolean keepHiddenStates) {
        int s = config.imageSize(), c = config.channels();
        if (batch <= 0 || pixels.length != (long) batch * c * s * s)
            throw new IllegalArgumentException("CLIP vision: expected " + batch + " images of " + c + "x" + s + "x" + s
                    + " = " + (long) batch * c * s * s + " values, got " + pixels.length);
        int d = config.hiddenSize(), t = config.tokens(), rows = batch * t;
        float[] x = embed(pixels, batch);              // [batch * tokens, hidden]
        preNorm.apply(x, rows, x);
        List<float[]> hidden = new ArrayList<>();
        if (keepHiddenStates) hidden.add(x.clone());
        float[] h = new float[rows * d];
        for (Layer layer : layers) {
            layer.norm1.apply(x, rows, h);
            float[] attended = attention(layer, h, batch);
            addLinear(attended, rows, layer.out, layer.outBias, x);
            layer.norm2.apply(x, rows, h);
            float[] inner = new float[rows * config.intermediateSize()];
            MatMul.multiply(h, rows, layer.fc1, layer.fc1Bias, inner);
            config.activation().apply(inner, 0, inner.length);
            addLinear(inner, rows, layer.fc2, layer.fc2Bias, x);
            if (keepHiddenStates) hidden.add(x.clone());
        }
        float[] pooled = new float[batch * d];
        for (int b = 0; b < batch; b++) System.arraycopy(x, b * t * d, pooled, b * d, d);
        postNorm.apply(pooled, batch, pooled);
        float[] projected = null;
        if (projection != null) {
            projected = new float[batch * projection.dim(0)];
            MatMul.multiply(pooled, batch, projection, null, projected);
        }
        return new Output(batch, pooled, projected, List.copyOf(hidden));
    }

    /** Class token and patch embeddings plus positions: [batch * tokens, hidden]. */
    private float[] embed(float[] pixels, int batch) {
        int s = config.imageSize(), c = config.channels(), p = config.patchSize(), g = config.grid();
        int d = config.hiddenSize(), t = config.tokens(), n = g * g, kernel = c * p * p;
        // Patches unfolded in the kernel's (channel, row, column) order: [batch * n, c * p * p].
        float[] patches = new float[batch * n * kernel];
        for (int b = 0; b < batch; b++)
            for (int py = 0; py < g; py++)
                for (int px = 0; px < g; px++) {
                    int o = ((b * n) + py * g + px) * kernel;
                    for (int ch = 0; ch < c; ch++)
                        for (int ky = 0; ky < p; ky++) {
                            int src = ((b * c + ch) * s + py * p + ky) * s + px * p;
                            System.arraycopy(pixels, src, patches, o + (ch * p + ky) * p, p);
                        }
                }
        float[] embedded = new float[batch * n * d];
        MatMul.multiply(patches, batch * n, patchKernel, null, embedded);
        float[] x = new float[batch * t * d];
        for (int b = 0; b < batch; b++) {
            int o = b * t * d;
            for (int i = 0; i < d; i++) x[o + i] = classEmbedding[i] + positions[i];
            for (int j = 0; j < n; j++)
                for (int i = 0; i < d; i++) x[o + (j + 1) * d + i] = embedded[(b * n + j) * d + i] + positions[(j + 1) * d + i];
        }
        return x;
    }

    /** Bidirectional multi-head self-attention of each image's tokens on its own: [batch * tokens, hidden]. */
    private float[] attention(Layer layer, float[] h, int batch) {
        int d = config.hiddenSize(), t = config.tokens(), rows = batch * t;
        float[] q = new float[rows * d], k = new float[rows * d], v = new float[rows * d];
        // one call: the prompt product rearranges h into token tiles once for the three
        MatMul.multiplyEach(h, rows, new TensorView[] {layer.q, layer.k, layer.v}, new float[][] {layer.qBias, layer.kBias, layer.vBias},
                new float[][] {q, k, v});
        float[] out = new float[rows * d];
        float scale = (float) (1.0 / Math.sqrt(config.headDim()));
        for (int b = 0; b < batch; b++) {
            int from = b * t * d, to = from + t * d;
            float[] o = new float[t * d];
            Attention.selfAttention(java.util.Arrays.copyOfRange(q, from, to), java.util.Arrays.copyOfRange(k, from, to),
                    java.util.Arrays.copyOfRange(v, from, to), t, config.heads(), config.heads(), config.headDim(), scale, false, null, o);
            System.arraycopy(o, 0, out, from, t * d);
        }
        return out;
    }

    /** residual[rows, out] += in[rows, in] * w^T + bias. */
    private static void addLinear(float[] in, int rows, TensorView w, float[] bias, float[] residual) {
        float[] y = new float[rows * w.dim(0)];
        MatMul.multiply(in, rows, w, bias, y);
        for (int i = 0; i < y.length; i++) residual[i] += y[i];
    }

    private TensorView tensor(String name) { return weights.tensor(PREFIX + name); }

    private TensorView matrix(String name, int rows, int cols) { return tensor(name).requireShape(rows, cols); }

    private float[] vector(String name, int n) { return tensor(name).requireShape(n).toFloats(); }

    private LayerNorm norm(String name) {
        int d = config.hiddenSize();
        return new LayerNorm(vector(name + ".weight", d), vector(name + ".bias", d), config.layerNormEps());
    }

    @Override
    public void close() { weights.close(); }
}
