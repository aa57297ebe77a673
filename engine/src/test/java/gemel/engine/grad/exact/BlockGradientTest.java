package gemel.engine.grad.exact;

import static gemel.engine.grad.exact.GradientCheck.assertMatches;
import static gemel.engine.grad.exact.GradientCheck.dot;
import static gemel.engine.grad.exact.GradientCheck.random;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.config.HfConfig;
import gemel.engine.grad.Batch;
import gemel.engine.io.TensorView;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Each block's backward against central finite differences of {@code L = sum(forward(x) * R)} for a
 * random R, in double precision.
 */
class BlockGradientTest {
    private final Random random = new Random(11);

    private TensorView tensor(String name, double scale, long... shape) {
        int n = 1;
        for (long d : shape) n *= (int) d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (random.nextGaussian() * scale);
        return TinyModels.view(name, v, shape);
    }

    private Dense dense(int out, int in, boolean bias) {
        return new Dense(tensor("w", 0.5, out, in), bias ? tensor("b", 0.2, out) : null);
    }

    /** Two rows of 5 tokens, the second right-padded after 3. */
    private static Batch paddedBatch() {
        int[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
        return new Batch(2, 5, mask, Batch.positionsFromMask(mask, 2, 5));
    }

    @Test
    void layerNorm() {
        int rows = 3, width = 7;
        LayerNormBlock norm = new LayerNormBlock(tensor("g", 1, width), tensor("b", 1, width), width, 1e-5);
        double[] x = random(random, rows * width, 2), r = random(random, rows * width, 1);
        assertMatches("LayerNorm", x, norm.backward(norm.forward(x, rows), r, rows), v -> dot(norm.forward(v, rows).y(), r));
    }

    @Test
    void rmsNorm() {
        int rows = 3, width = 6;
        RmsNormBlock norm = new RmsNormBlock(tensor("g", 1, width), width, 1e-6);
        double[] x = random(random, rows * width, 2), r = random(random, rows * width, 1);
        assertMatches("RMSNorm", x, norm.backward(norm.forward(x, rows), r, rows), v -> dot(norm.forward(v, rows).y(), r));
    }

    @Test
    void reluFeedForward() {
        int rows = 4, width = 5;
        FeedForwardBlock mlp = FeedForwardBlock.relu(dense(9, width, true), dense(width, 9, true));
        double[] x = random(random, rows * width, 1), r = random(random, rows * width, 1);
        assertMatches("ReLU MLP", x, mlp.backward(mlp.forward(x, rows), r, rows), v -> dot(mlp.forward(v, rows).output(), r));
    }

    @Test
    void swiGluFeedForward() {
        int rows = 4, width = 5;
        FeedForwardBlock mlp = FeedForwardBlock.swiGlu(dense(9, width, false), dense(9, width, false), dense(width, 9, false));
        double[] x = random(random, rows * width, 1), r = random(random, rows * width, 1);
        assertMatches("SwiGLU MLP", x, mlp.backward(mlp.forward(x, rows), r, rows), v -> dot(mlp.forward(v, rows).output(), r));
    }

    @Test
    void attentionWithPaddingAndBiases() {
        int width = 6;
        AttentionBlock a = new AttentionBlock(dense(width, width, true), dense(width, width, true), dense(width, width, true),
                dense(width, width, true), 2, 2, 3, 1 / Math.sqrt(3), null, Integer.MAX_VALUE);
        check("attention (OPT style)", a, width, paddedBatch());
    }

    @Test
    void groupedQueryAttentionWithRotaryAndWindow() {
        int width = 8, heads = 4, kv = 2, hd = 4;
        ObjectNode c = new ObjectMapper().createObjectNode().put("rope_theta", 100.0);
        c.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 4.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 4);
        Rotary rotary = Rotary.fromConfig(HfConfig.of(Path.of("config.json"), c), hd);
        AttentionBlock a = new AttentionBlock(dense(heads * hd, width, false), dense(kv * hd, width, false), dense(kv * hd, width, false),
                dense(width, heads * hd, false), heads, kv, hd, 0.5, rotary, 3);
        check("GQA attention with RoPE and sliding window", a, width, paddedBatch());
    }

    @Test
    void rotaryBackwardIsTheTransposedRotation() {
        Rotary rotary = new Rotary(new double[] {1.0, 0.3, 0.01}, 6);
        double[] x = random(random, 12, 1), r = random(random, 12, 1);
        double[] dx = r.clone();
        rotary.rotate(dx, 0, 2, 5, true);
        assertMatches("RoPE", x, dx, v -> {
            double[] y = v.clone();
            rotary.rotate(y, 0, 2, 5, false);
            return dot(y, r);
        });
    }

    @Test
    void preNormLayer() {
        int width = 6;
        DecoderLayer layer = new DecoderLayer(
                new LayerNormBlock(tensor("g", 1, width), tensor("b", 0.2, width), width, 1e-5),
                new AttentionBlock(dense(width, width, true), dense(width, width, true), dense(width, width, true), dense(width, width, true),
                        2, 2, 3, 1 / Math.sqrt(3), null, Integer.MAX_VALUE),
                new LayerNormBlock(tensor("g", 1, width), tensor("b", 0.2, width), width, 1e-5),
                FeedForwardBlock.relu(dense(10, width, true), dense(width, 10, true)), true, width);
        checkLayer("pre-LN layer", layer, width);
    }

    @Test
    void postNormLayer() {
        int width = 6;
        DecoderLayer layer = new DecoderLayer(
                new LayerNormBlock(tensor("g", 1, width), tensor("b", 0.2, width), width, 1e-5),
                new AttentionBlock(dense(width, width, true), dense(width, width, true), dense(width, width, true), dense(width, width, true),
                        2, 2, 3, 1 / Math.sqrt(3), null, Integer.MAX_VALUE),
                new LayerNormBlock(tensor("g", 1, width), tensor("b", 0.2, width), width, 1e-5),
                FeedForwardBlock.relu(dense(10, width, true), dense(width, 10, true)), false, width);
        checkLayer("post-LN layer", layer, width);
    }

    private void check(String what, AttentionBlock a, int width, Batch batch) {
        double[] x = random(random, batch.rows() * width, 1), r = random(random, batch.rows() * width, 1);
        assertMatches(what, x, a.backward(a.forward(x, batch), r, batch), v -> dot(a.forward(v, batch).output(), r));
    }

    private void checkLayer(String what, DecoderLayer layer, int width) {
        Batch batch = paddedBatch();
        double[] x = random(random, batch.rows() * width, 1), r = random(random, batch.rows() * width, 1);
        assertMatches(what, x, layer.backward(layer.forward(x, batch), r, batch), v -> dot(layer.forward(v, batch).output(), r));
    }
}
