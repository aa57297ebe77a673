package gemel.engine.grad;

import gemel.engine.kernel.Activation;
import gemel.engine.kernel.ActivationGradient;
import gemel.engine.kernel.CausalSelfAttention;
import gemel.engine.kernel.LinearProducts;
import gemel.engine.kernel.MatMul;
import gemel.engine.kernel.NormGradient;
import gemel.engine.kernel.Rope;
import gemel.engine.model.DecoderParts;
import gemel.engine.model.Linear;

/**
 * One transformer block of a decoder run forward for a backward, in fp32 on the kernels the inference
 * decoders use ({@link MatMul}, the vector activations), so both compute the same forward.
 * Pre-norm (OPT, Llama family): {@code h = x + attn(n1(x)); out = h + mlp(n2(h))}. Post-norm
 * (OPT-350m): {@code h = n1(x + attn(x)); out = n2(h + mlp(h))}. Backward mirrors forward line by
 * line and gives only input gradients (the weights are frozen, so nothing else is kept).
 */
final class TrainingBlock {
    private final DecoderParts.Block w;
    private final boolean normBefore;
    private final Rope rope;             // null: positions enter at the input (OPT)
    private final Activation activation;
    private final int heads, kvHeads, headDim, window;
    private final float scale;           // head_dim^-0.5 on the scores

    /**
     * What the backward reads: each norm's input [rows, hidden], q [rows, heads * headDim], k, v
     * [rows, kvHeads * headDim] (rotated), the MLP's pre-activation [rows, ffn] and its gated branch (or null).
     */
    record Saved(float[] norm1In, float[] q, float[] k, float[] v, float[] norm2In, float[] pre, float[] up) {}

    record Forward(Saved saved, float[] output) {}

    TrainingBlock(DecoderParts parts, DecoderParts.Block w) {
        this.w = w;
        this.normBefore = parts.normBefore();
        this.rope = parts.rope();
        this.activation = parts.activation();
        this.heads = parts.shape().heads();
        this.kvHeads = parts.shape().kvHeads();
        this.headDim = parts.shape().headDim();
        this.window = parts.slidingWindow();
        this.scale = (float) (1 / Math.sqrt(headDim));
        ActivationGradient.requireSupported(activation, parts.shape().architecture());
    }

    /** x [rows, hidden] -> output [rows, hidden] and what the backward needs. */
    Forward forward(float[] x, Batch batch) {
        int rows = batch.rows();
        float[] attentionIn = normBefore ? norm(w.attentionNorm(), x, rows) : x;
        float[][] qkv = queriesKeysValues(attentionIn, batch);
        float[] q = qkv[0], k = qkv[1], v = qkv[2];
        float[] h = add(x, apply(w.o(), attention(batch).forward(q, k, v), rows));
        float[] norm1In = normBefore ? x : h;
        if (!normBefore) h = norm(w.attentionNorm(), h, rows);
        float[] mlpIn = normBefore ? norm(w.mlpNorm(), h, rows) : h;
        float[] pre = apply(w.in(), mlpIn, rows), up = w.up() == null ? null : apply(w.up(), mlpIn, rows);
        float[] hidden = pre.clone();
        activation.apply(hidden, 0, hidden.length);
        if (up != null) for (int i = 0; i < hidden.length; i++) hidden[i] *= up[i];
        float[] out = add(h, apply(w.out(), hidden, rows));
        float[] norm2In = normBefore ? h : out;
        if (!normBefore) out = norm(w.mlpNorm(), out, rows);
        return new Forward(new Saved(norm1In, q, k, v, norm2In, pre, up), out);
    }

    /**
     * The {@link Saved} of {@link #forward}(x) rebuilt, bit for bit, from x and that Saved's two norm inputs: the norms,
     * q, k, v and the MLP's first products, without attention, its output product and the MLP's last product, which the
     * backward does not read. (Pre-norm, the first norm's input is x itself.)
     */
    Saved savedFrom(float[] x, float[] norm1In, float[] norm2In, Batch batch) {
        int rows = batch.rows();
        float[][] qkv = queriesKeysValues(normBefore ? norm(w.attentionNorm(), x, rows) : x, batch);
        float[] mlpIn = normBefore ? norm(w.mlpNorm(), norm2In, rows) : norm(w.attentionNorm(), norm1In, rows);
        float[] pre = apply(w.in(), mlpIn, rows), up = w.up() == null ? null : apply(w.up(), mlpIn, rows);
        return new Saved(norm1In, qkv[0], qkv[1], qkv[2], norm2In, pre, up);
    }

    /** Arrays of [rows, hidden] that {@link #savedFrom} needs: the input and the norms' inputs, the first of which is the input pre-norm. */
    int recomputeInputs() { return normBefore ? 2 : 3; }

    /** q, k and v of the attention's input (rotated where the model rotates them). */
    private float[][] queriesKeysValues(float[] attentionIn, Batch batch) {
        int rows = batch.rows();
        float[] q = apply(w.q(), attentionIn, rows), k = apply(w.k(), attentionIn, rows), v = apply(w.v(), attentionIn, rows);
        if (rope != null)
            for (int r = 0; r < rows; r++) {
                rope.apply(q, r * heads * headDim, heads, batch.positions()[r]);
                rope.apply(k, r * kvHeads * headDim, kvHeads, batch.positions()[r]);
            }
        return new float[][] {q, k, v};
    }

    /** dOut [rows, hidden] -> dx [rows, hidden]. */
    float[] backward(Saved s, float[] dOut, Batch batch) {
        int rows = batch.rows();
        if (normBefore) {
            float[] dh = add(dOut, normBackward(w.mlpNorm(), s.norm2In(), mlpBackward(s, dOut, rows), rows));
            return add(dh, normBackward(w.attentionNorm(), s.norm1In(), attentionBackward(s, dh, batch), rows));
        }
        float[] dr2 = normBackward(w.mlpNorm(), s.norm2In(), dOut, rows);
        float[] dh = add(dr2, mlpBackward(s, dr2, rows));
        float[] dr1 = normBackward(w.attentionNorm(), s.norm1In(), dh, rows);
        return add(dr1, attentionBackward(s, dr1, batch));
    }

    /** Floats a {@link Saved} holds for {@code rows} rows. */
    long savedFloats(long rows) {
        long ffn = w.in().outputs();
        return rows * (2L * w.o().outputs() + w.q().outputs() + w.k().outputs() + w.v().outputs() + (w.up() == null ? 1 : 2) * ffn);
    }

    private float[] mlpBackward(Saved s, float[] dOut, int rows) {
        float[] d = inputGradient(w.out(), dOut, rows);
        float[] dx;
        if (s.up() == null) {
            ActivationGradient.plain(activation, s.pre(), d, d.length);
            dx = inputGradient(w.in(), d, rows);
        } else {
            float[] dUp = new float[d.length];
            ActivationGradient.gated(activation, s.pre(), s.up(), d, dUp, d.length);
            dx = inputGradient(w.in(), d, rows);
            LinearProducts.addInputGradient(dUp, rows, w.up().weight(), dx);
        }
        return dx;
    }

    private float[] attentionBackward(Saved s, float[] dOut, Batch batch) {
        int rows = batch.rows();
        float[] dContext = inputGradient(w.o(), dOut, rows);
        CausalSelfAttention.Gradients g = attention(batch).backward(s.q(), s.k(), s.v(), dContext);
        if (rope != null)
            for (int r = 0; r < rows; r++) { // the rotation's transpose is the rotation by -position
                rope.apply(g.dq(), r * heads * headDim, heads, -batch.positions()[r]);
                rope.apply(g.dk(), r * kvHeads * headDim, kvHeads, -batch.positions()[r]);
            }
        float[] dx = inputGradient(w.q(), g.dq(), rows);
        LinearProducts.addInputGradient(g.dk(), rows, w.k().weight(), dx);
        LinearProducts.addInputGradient(g.dv(), rows, w.v().weight(), dx);
        return dx;
    }

    private CausalSelfAttention attention(Batch batch) {
        return new CausalSelfAttention(batch.batch(), batch.tokens(), heads, kvHeads, headDim, scale, batch.mask(), window);
    }

    /** x [rows, in] -> a new [rows, out]. */
    static float[] apply(Linear layer, float[] x, int rows) {
        float[] y = new float[rows * layer.outputs()];
        MatMul.multiply(x, rows, layer.weight(), layer.bias(), y);
        return y;
    }

    /** dy [rows, out] · W as a new [rows, in]. */
    static float[] inputGradient(Linear layer, float[] dy, int rows) {
        float[] dx = new float[rows * layer.inputs()];
        LinearProducts.addInputGradient(dy, rows, layer.weight(), dx);
        return dx;
    }

    static float[] norm(DecoderParts.Norm n, float[] x, int rows) {
        float[] out = new float[x.length];
        n.apply(x, rows, out);
        return out;
    }

    static float[] normBackward(DecoderParts.Norm n, float[] x, float[] dy, int rows) {
        float[] dx = new float[x.length];
        if (n.layerNorm() != null) NormGradient.layerNorm(n.layerNorm(), x, dy, rows, dx);
        else NormGradient.rmsNorm(n.rmsNorm(), x, dy, rows, dx);
        return dx;
    }

    private static float[] add(float[] a, float[] b) {
        float[] c = new float[a.length];
        for (int i = 0; i < a.length; i++) c[i] = a[i] + b[i];
        return c;
    }
}
