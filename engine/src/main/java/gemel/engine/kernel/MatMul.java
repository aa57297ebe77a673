package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The product of fp32 activations with a stored weight, as a linear layer computes it:
 * {@code out[t, o] = sum_i x[t, i] * w[o, i] + bias[o]}. The weight stays in its stored dtype. Tasks
 * own blocks of output rows and run on all cores. Prompts ({@value #PANEL_TOKENS} tokens or more) go
 * through {@link PanelProduct}, which packs the weight into panels once per call, walking the input
 * dimension in chunks that keep a task's packed weights in L2 however wide the layer (OPT-6.7B's fc2
 * reads 16384 inputs); fewer tokens (decode steps, beams, short prompts: bound by reading the weight)
 * through {@link StreamingProduct}, which reads each weight once. An F16 weight that holds an infinity
 * or a NaN, or more zeros and subnormals than {@link ZeroExponentHalves} lets stream, takes the panel path for
 * any number of tokens, and so does an F16 product of an input of 2^16 or more in magnitude (see
 * StreamingProduct's class comment).
 */
public final class MatMul {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int CHUNK = 2048;                          // input columns per pass: a 2048-wide layer in one (1024 measured slower)
    private static final int WEIGHT_TILE_BYTES = 512 * 1024; // converted weights of one task and chunk
    static final int PANEL_TOKENS = 128;                    // from here on weights are packed into panels: below, packing costs more than it saves
    /**
     * Tasks per core of a streaming call: a core left without a task waits for the last one to end, half a task on average,
     * so smaller tasks waste less. With eight instead of four, single-token decode steps took 0.97-0.98 of the time for
     * OPT-125m fp32 (0.93-0.97 in an earlier set of runs), 1.00 for Llama-1B fp32 and 1.00-1.02 for OPT-125m bf16 (in turns
     * in one JVM, both orders, on a 2-core Xeon).
     * <p>F16 weights keep four: after its rows, a task takes the excess of their zero-exponent halves back from out
     * ({@link ZeroExponentHalves}), writing again cache lines that the neighbouring rows' task may be writing on the other
     * core. With one such half in a hundred, five-token products of a [256, 1024] weight took 3.2-4.4 times as long as
     * BF16's with eight tasks, 2.2 with four. Folded into each output as it is stored instead, that excess cost fp16
     * OPT-1.3b's 5-row steps 6-7 %, on weights with one such half in several hundred.
     */
    private static final int STREAM_TASKS_PER_CORE = 8;
    private static final int HALF_STREAM_TASKS_PER_CORE = 4; // F16 weights (above)
    private static final int PANEL_TASKS_PER_CORE = 4;
    private static final long SERIAL_WORK = 1L << 16;       // multiply-adds below which forking costs more than it saves

    private MatMul() {}

    /** x [tokens, in], w [outDim, in] (F32/F16/BF16), bias [outDim] or null, out [tokens, outDim]. */
    public static void multiply(float[] x, int tokens, TensorView w, float[] bias, float[] out) {
        multiplyEach(x, tokens, new TensorView[] {w}, new float[][] {bias}, new float[][] {out});
    }

    /**
     * {@link #multiply} of one input by several weights of the same input width (a layer's q, k and v; gate and up):
     * out[i] = x · w[i]^T + bias[i]. A decode step runs them as one parallel call, so that the cores wait for each other
     * once, not once per weight. On this machine's two cores, OPT-125m's decode steps took the same time either way
     * (0.97-1.03 of it in four same-JVM comparisons, both orders).
     */
    public static void multiplyEach(float[] x, int tokens, TensorView[] w, float[][] bias, float[][] out) {
        if (w.length != bias.length || w.length != out.length)
            throw new IllegalArgumentException(w.length + " weights, " + bias.length + " biases and " + out.length + " outputs");
        for (int i = 0; i < w.length; i++) {
            checkShapes(x, tokens, w[i], bias[i], out[i]);
            if (w[i].dim(1) != w[0].dim(1)) throw new IllegalArgumentException(w[i] + " and " + w[0] + " take inputs of different widths");
        }
        int in = w.length == 0 ? 0 : w[0].dim(1);
        boolean[] streams = new boolean[w.length];
        ZeroExponentHalves[] halves = new ZeroExponentHalves[w.length];
        Boolean halfInput = null; // whether x suits F16's streaming kernels: found out for the first F16 weight
        float[] tiled = null;     // x as the panel path's token tiles: made for the first weight that takes it
        for (int i = 0; i < w.length; i++) {
            if (w[i].dtype() == DType.F16 && tokens < PANEL_TOKENS) {
                if (halfInput == null) halfInput = belowHalfLimit(x, tokens * in);
                halves[i] = ZeroExponentHalves.of(w[i]);
                streams[i] = halfInput && halves[i].streams();
            } else {
                streams[i] = tokens < PANEL_TOKENS;
            }
            if (!streams[i]) {
                if (tiled == null) tiled = PanelProduct.tokenTiles(x, tokens, in);
                panels(tiled, tokens, w[i], bias[i], out[i]);
            }
        }
        stream(x, streams, tokens, in, w, halves, bias, out);
    }

    /** The scalar twin of {@link #multiply}: the plain triple loop, reading the weight one element at a time. */
    public static void multiplyScalar(float[] x, int tokens, TensorView w, float[] bias, float[] out) {
        int outDim = w.dim(0), in = w.dim(1);
        checkShapes(x, tokens, w, bias, out);
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < outDim; o++) {
                float sum = 0;
                for (int i = 0; i < in; i++) sum += x[t * in + i] * w.get((long) o * in + i);
                out[t * outDim + o] = sum + (bias == null ? 0 : bias[o]);
            }
        }
    }

    private static void checkShapes(float[] x, int tokens, TensorView w, float[] bias, float[] out) {
        if (w.rank() != 2) throw new IllegalArgumentException("weight " + w + " is not a matrix");
        int outDim = w.dim(0), in = w.dim(1);
        if ((long) tokens * in > x.length)
            throw new IllegalArgumentException("input has " + x.length + " floats, " + tokens + " tokens x " + in + " needed for " + w);
        if ((long) tokens * outDim > out.length)
            throw new IllegalArgumentException("output has " + out.length + " floats, " + tokens + " tokens x " + outDim + " needed for " + w);
        if (bias != null && bias.length != outDim)
            throw new IllegalArgumentException("bias has " + bias.length + " floats, " + w + " has " + outDim + " rows");
    }

    /**
     * True if every one of x's first n values is below 2^16 in magnitude, as F16's streaming kernels need (NaNs are not). A
     * plain loop: in vectors, it ran hundreds of times slower until the JIT had compiled it, which a short run never did.
     */
    private static boolean belowHalfLimit(float[] x, int n) {
        float largest = 0;
        for (int i = 0; i < n; i++) largest = Math.max(largest, Math.abs(x[i])); // a NaN stays
        return largest < 0x1p16f;
    }

    /** A prompt's product, and any the streaming kernels do not take: through {@link PanelProduct}, x as its token tiles. */
    private static void panels(float[] tiled, int tokens, TensorView w, float[] bias, float[] out) {
        int outDim = w.dim(0), in = w.dim(1);
        panelBlocks(tokens, in, outDim, (o0, o1) -> PanelProduct.multiplyRows(tiled, tokens, in, w, bias, out, outDim, o0, o1, CHUNK));
    }

    /**
     * out [tokens, n] += x [tokens, k] · w [k, n] (unchecked; see {@link LinearProducts}): the prompt product with the
     * weight's columns as its outputs. Each output is summed in chunks of {@value #CHUNK} of k, each chunk's sum added in turn.
     */
    static void addTimesColumns(float[] x, int tokens, TensorView w, float[] out) {
        int in = w.dim(0), outDim = w.dim(1);
        float[] tiled = PanelProduct.tokenTiles(x, tokens, in);
        panelBlocks(tokens, in, outDim, (o0, o1) -> PanelProduct.addColumns(tiled, tokens, in, w, out, outDim, o0, o1, CHUNK));
    }

    /** A block of output rows [o0, o1). */
    private interface RowBlock {
        void run(int o0, int o1);
    }

    /** Outputs [0, outDim) of a panel product in blocks of whole panels, on all cores unless the product is small. */
    private static void panelBlocks(int tokens, int in, int outDim, RowBlock task) {
        int rowBlock = wholePanels(panelRows(outDim, in));
        int blocks = (outDim + rowBlock - 1) / rowBlock;
        runBlocks((long) tokens * in * outDim, blocks, b -> task.run(b * rowBlock, Math.min(outDim, (b + 1) * rowBlock)));
    }

    /**
     * The weights that stream (there may be none) in one parallel call: the rows of all of them are cut into a few blocks
     * per core, each within one weight, so that a weight gets blocks in proportion to its rows.
     */
    private static void stream(float[] x, boolean[] streams, int tokens, int in, TensorView[] w, ZeroExponentHalves[] halves, float[][] bias,
                               float[][] out) {
        long rows = 0;
        boolean half = false;
        for (int i = 0; i < w.length; i++) {
            if (!streams[i]) continue;
            rows += w[i].dim(0);
            half |= w[i].dtype() == DType.F16;
        }
        int rowBlock = balancedRows(Math.toIntExact(rows), half ? HALF_STREAM_TASKS_PER_CORE : STREAM_TASKS_PER_CORE);
        int[] firstBlock = new int[w.length + 1], blockRows = new int[w.length];
        for (int i = 0; i < w.length; i++) {
            int outDim = w[i].dim(0), blocks = streams[i] ? (outDim + rowBlock - 1) / rowBlock : 0;
            blockRows[i] = blocks == 0 ? 0 : (outDim + blocks - 1) / blocks;
            firstBlock[i + 1] = firstBlock[i] + blocks;
        }
        runBlocks((long) tokens * in * rows, firstBlock[w.length], b -> {
            int i = 0;
            while (firstBlock[i + 1] <= b) i++;
            int outDim = w[i].dim(0), r0 = (b - firstBlock[i]) * blockRows[i];
            StreamingKernels.multiplyRows(x, tokens, in, w[i], halves[i], bias[i], out[i], outDim, r0, Math.min(outDim, r0 + blockRows[i]));
        });
    }

    /** Blocks [0, blocks) on all cores, or in turn on this thread when the product is too small to share ({@code multiplyAdds}). */
    private static void runBlocks(long multiplyAdds, int blocks, IntConsumer block) {
        if (multiplyAdds < SERIAL_WORK) {
            for (int b = 0; b < blocks; b++) block.accept(b);
        } else {
            Parallel.forEach(blocks, block);
        }
    }

    /** Rows rounded down to whole panels of L rows, in threes when there are three (PanelProduct's widest tile). */
    private static int wholePanels(int rows) {
        int triple = 3 * F.length();
        return rows >= triple ? rows / triple * triple : Math.max(F.length(), rows / F.length() * F.length());
    }

    /** Rows per prompt task: its packed chunk fits the tile budget, and there are a few tasks per core. */
    private static int panelRows(int outDim, int in) {
        return Math.min(WEIGHT_TILE_BYTES / (4 * Math.max(1, Math.min(in, CHUNK))), balancedRows(outDim, PANEL_TASKS_PER_CORE)); // wholePanels rounds it
    }

    /** Rows per task for {@code perCore} tasks per core, so that a slow core holds up the others little. */
    private static int balancedRows(int outDim, int perCore) {
        int tasks = perCore * Parallel.cores();
        return Math.max(2, (outDim + tasks - 1) / tasks);
    }
}
