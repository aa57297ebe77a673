package gemel.engine.kernel;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal self-attention over whole sequences with its backward, for a pass that needs input
 * gradients. Grouped key/value heads, padding masks and an optional sliding window. The forward keeps
 * no probabilities: the backward recomputes them from q and k (as many products as the forward, but
 * memory O(rows * width) instead of O(heads * tokens^2)), then uses softmax's
 * {@code dz = p * (dp - sum(p * dp))}. A padding query attends to nothing (its output is zero) and
 * a padding key is never visible.
 * <p>Tasks run per (sequence, key/value head) on all cores: the query heads of a group all add into its
 * dk, dv. A task takes {@value #QUERIES} queries at a time, so that every step is a matrix product
 * for {@link PanelProduct}'s register tiles: scores {@code s = q k^T} and {@code dp = dOut v^T} against
 * keys and values in panels of positions, then {@code out = p v}, {@code dq = ds k}, {@code dk += ds^T q}
 * and {@code dv += p^T dOut} against rows. Key positions are padded with zeros to whole panels and tiles,
 * head dimensions to the tiles' width. The kernel this replaced (one query at a time for the scores, a row of dk and dv
 * loaded and stored for every four queries) took 43 % of an OPT-125m training step of 1,536 tokens on
 * the Xeon (Emerald Rapids). Timed in turns in one JVM on its two cores (12 heads of 64), this one took
 * 0.34 of its time for the forward and 0.28 for the backward at 1,536 tokens, 0.44 and 0.42 at 512.
 *
 * @param mask   [batch, tokens], 1 real, 0 padding
 * @param window keys j with i - j >= window are invisible to query i; 0: no window
 */
public record CausalSelfAttention(int batch, int tokens, int heads, int kvHeads, int headDim, float scale, int[] mask, int window) {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final int WIDE = 2 * L;     // the tiles' width (PanelProduct's x2 tiles): what head dimensions are padded to
    private static final int TILE = PanelProduct.TILE;
    // what key positions are padded to: whole panels of WIDE positions for the scores, whole tiles for dk and dv (WIDE is a
    // power of two, TILE is 8 or 3)
    private static final int UNIT = WIDE % TILE == 0 ? WIDE : WIDE * TILE;
    private static final int QUERIES = 64;     // queries per block: their p and ds rows stay in L2 at a few thousand tokens
    // a thread's buffers, reused from task to task. With new arrays for every task (megabytes per head and layer) and a task
    // per key/value head, the forward took 1.16 times as long and the backward 1.06 (1,536 tokens, 12 heads, in turns)
    private static final Scratch P = new Scratch(), DS = new Scratch(), TILES = new Scratch(), BLOCK_OUT = new Scratch();
    // a key/value head laid out: keys and values in position panels, and one of them in rows (values forward, keys backward)
    private static final Scratch KEY_PANELS = new Scratch(), VALUE_PANELS = new Scratch(), HEAD_ROWS = new Scratch();
    private static final Scratch D_KEYS = new Scratch(), D_VALUES = new Scratch(), QUERY_ROWS = new Scratch(), D_OUT_ROWS = new Scratch();

    public CausalSelfAttention {
        if (heads % kvHeads != 0) throw new IllegalArgumentException(heads + " attention heads are not a multiple of " + kvHeads + " key/value heads");
        if (mask.length != batch * tokens) throw new IllegalArgumentException("mask has " + mask.length + " entries, " + batch + " x " + tokens + " expected");
    }

    /**
     * q [rows, heads * headDim], k, v [rows, kvHeads * headDim] -> a new [rows, heads * headDim]. A task per (sequence,
     * query head), so that a model with few key/value heads still keeps the cores busy; each lays out its key/value head
     * for itself.
     */
    public float[] forward(float[] q, float[] k, float[] v) {
        float[] out = new float[batch * tokens * heads * headDim];
        int hp = paddedDim();
        Parallel.forEach(batch * heads, task -> {
            int b = task / heads, h = task % heads, kh = h / group();
            Workspace s = new Workspace();
            float[] keys = positionPanels(k, b, kh, KEY_PANELS), values = rowsPadded(v, b, kh, HEAD_ROWS);
            for (int i0 = 0; i0 < tokens; i0 += QUERIES) {
                int n = Math.min(QUERIES, tokens - i0), lo = firstKey(i0), hi = keyEnd(i0 + n);
                probabilities(q, keys, b, h, i0, n, lo, hi, s);
                // out = p v
                pack(s.p, lo, padded(), 1, n, hi - lo, 1f, s.tiles);
                product(s.tiles, 0, (hi - lo) * TILE, TILE, n, hi - lo, values, lo * hp, hp, WIDE, hp, s.blockOut, 0, hp, false);
                scatter(s.blockOut, out, b, i0, n, heads * headDim, h * headDim);
            }
        });
        return out;
    }

    /** Given dOut [rows, heads * headDim], the gradients of q, k and v (new arrays). */
    public Gradients backward(float[] q, float[] k, float[] v, float[] dOut) {
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        int hp = paddedDim(), tp = padded();
        Parallel.forEach(batch * kvHeads, task -> {
            int b = task / kvHeads, kh = task % kvHeads;
            Workspace s = new Workspace();
            float[] keys = positionPanels(k, b, kh, KEY_PANELS), values = positionPanels(v, b, kh, VALUE_PANELS), keyRows = rowsPadded(k, b, kh, HEAD_ROWS);
            float[] dKeys = zeros(D_KEYS, tp * hp), dValues = zeros(D_VALUES, tp * hp);
            float[] queryRows = zeros(QUERY_ROWS, QUERIES * hp), dOutRows = zeros(D_OUT_ROWS, QUERIES * hp);
            for (int h = kh * group(); h < (kh + 1) * group(); h++) {
                for (int i0 = 0; i0 < tokens; i0 += QUERIES) {
                    int n = Math.min(QUERIES, tokens - i0), lo = firstKey(i0), hi = keyEnd(i0 + n);
                    probabilities(q, keys, b, h, i0, n, lo, hi, s);
                    // dp = dOut v^T into ds, then ds = p * (dp - sum(p * dp)) * scale
                    pack(dOut, row(b, i0) * heads * headDim + h * headDim, heads * headDim, 1, n, headDim, 1f, s.tiles);
                    product(s.tiles, 0, headDim * TILE, TILE, n, headDim, values, lo * headDim, WIDE, headDim * WIDE, hi - lo, s.ds, lo, tp, false);
                    for (int r = 0; r < n; r++) scoreGradients(s.p, s.ds, r * tp, lo, hi);
                    // dq = ds k
                    pack(s.ds, lo, tp, 1, n, hi - lo, 1f, s.tiles);
                    product(s.tiles, 0, (hi - lo) * TILE, TILE, n, hi - lo, keyRows, lo * hp, hp, WIDE, hp, s.blockOut, 0, hp, false);
                    scatter(s.blockOut, dq, b, i0, n, heads * headDim, h * headDim);
                    // dk += ds^T q, dv += p^T dOut: ds and p read in place, a tile's TILE keys side by side in each row
                    gather(q, b, i0, n, heads * headDim, h * headDim, queryRows);
                    gather(dOut, b, i0, n, heads * headDim, h * headDim, dOutRows);
                    product(s.ds, lo, TILE, tp, hi - lo, n, queryRows, 0, hp, WIDE, hp, dKeys, lo * hp, hp, true);
                    product(s.p, lo, TILE, tp, hi - lo, n, dOutRows, 0, hp, WIDE, hp, dValues, lo * hp, hp, true);
                }
            }
            scatter(dKeys, dk, b, 0, tokens, kvWidth(), kh * headDim);
            scatter(dValues, dv, b, 0, tokens, kvWidth(), kh * headDim);
        });
        return new Gradients(dq, dk, dv);
    }

    /** dq [rows, heads * headDim], dk, dv [rows, kvHeads * headDim]. */
    public record Gradients(float[] dq, float[] dk, float[] dv) {}

    /**
     * A task's buffers for one block of queries, this thread's: p and ds rows [QUERIES, padded()], a product's packed tiles
     * and output (rows for a last tile to spare). Every use writes what it reads.
     */
    private final class Workspace {
        final float[] p = P.floats((QUERIES + TILE) * padded()), ds = DS.floats((QUERIES + TILE) * padded());
        final float[] tiles = TILES.floats(roundUp(QUERIES, TILE) * Math.max(padded(), headDim));
        final float[] blockOut = BLOCK_OUT.floats((QUERIES + TILE) * paddedDim());
    }

    /** This thread's array from {@code scratch}, its first n values zero. */
    private static float[] zeros(Scratch scratch, int n) {
        float[] a = scratch.floats(n);
        Arrays.fill(a, 0, n, 0f);
        return a;
    }

    /**
     * The softmax rows of queries i0 + [0, n) of head h in sequence b into p[r * padded() + j] for keys j in [lo, hi)
     * (0 where invisible, and the whole row for a padding query), from the keys of its sequence and head as position panels.
     * The scale is applied to q as it is packed.
     */
    private void probabilities(float[] q, float[] keys, int b, int h, int i0, int n, int lo, int hi, Workspace s) {
        int tp = padded();
        pack(q, row(b, i0) * heads * headDim + h * headDim, heads * headDim, 1, n, headDim, scale, s.tiles);
        product(s.tiles, 0, headDim * TILE, TILE, n, headDim, keys, lo * headDim, WIDE, headDim * WIDE, hi - lo, s.p, lo, tp, false);
        boolean padding = false; // whether any key the block can see is padding: most sequences have none
        for (int j = lo; j < Math.min(hi, tokens); j++) padding |= mask[row(b, j)] == 0;
        for (int r = 0; r < n; r++) {
            int i = i0 + r, at = r * tp;
            if (mask[row(b, i)] == 0) {
                Arrays.fill(s.p, at + lo, at + hi, 0f);
                continue;
            }
            int first = window > 0 ? Math.max(0, i - window + 1) : 0;
            if (padding) for (int j = first; j <= i; j++) if (mask[row(b, j)] == 0) s.p[at + j] = Float.NEGATIVE_INFINITY;
            Softmax.inPlace(s.p, at + first, i + 1 - first);
            Arrays.fill(s.p, at + lo, at + first, 0f);
            Arrays.fill(s.p, at + i + 1, at + hi, 0f);
        }
    }

    /** ds[at + j] = p * (dp - sum(p * dp)) * scale for keys [lo, hi) of one query, dp given in ds (0 where p is). */
    private void scoreGradients(float[] p, float[] ds, int at, int lo, int hi) {
        double pDotDp = DoubleSums.products(p, ds, at + lo, hi - lo);
        for (int j = at + lo; j < at + hi; j++) ds[j] = (float) (p[j] * (ds[j] - pDotDp)) * scale;
    }

    /**
     * The left operand a(m, kk) = factor * a[ao + m * am + kk * ak], m in [0, rows), kk in [0, depth), as PanelProduct's token tiles:
     * tile t holds rows [t TILE, (t + 1) TILE) as [depth, TILE], rows past the end zero. A full tile is gathered a vector
     * at a time: one value at a time, packing p's rows took as long as the product that reads them (0.86 ns a value).
     */
    private static void pack(float[] a, int ao, int am, int ak, int rows, int depth, float factor, float[] tiles) {
        int steps = L / TILE; // depth steps per vector: a full tile is gathered L values at a time where TILE divides L
        int[] reads = new int[L];
        for (int l = 0; l < L; l++) reads[l] = l % TILE * am + l / TILE * ak;
        for (int t = 0; t * TILE < rows; t++) {
            int real = Math.min(TILE, rows - t * TILE), at = t * depth * TILE, kk = 0, from = ao + t * TILE * am;
            if (real == TILE && L % TILE == 0) {
                for (; kk + steps <= depth; kk += steps, at += L) FloatVector.fromArray(F, a, from + kk * ak, reads, 0).mul(factor).intoArray(tiles, at);
            }
            for (; kk < depth; kk++) {
                for (int j = 0; j < real; j++) tiles[at++] = a[from + kk * ak + j * am] * factor;
                for (int j = real; j < TILE; j++) tiles[at++] = 0f;
            }
        }
    }

    /**
     * c[co + m * cs + x] = (add ? c[..] : 0) + sum over kk of a(m, kk) * b(kk, x) for m in [0, rows) and x in [0, width), a
     * multiple of WIDE, each sum made in order of kk. The left operand is read as tiles of TILE rows side by side:
     * a(m, kk) = a[ao + (m / TILE) * tileStride + kk * step + m % TILE], as {@link #pack} leaves them (tileStride = depth *
     * TILE, step = TILE) or as a row-major matrix holds its transpose (tileStride = TILE, step = its row width). The right
     * one is b(kk, x) = b[bo + (x / WIDE) * panels + kk * bs + x % WIDE]: b's rows (panels = WIDE) or its panels of WIDE
     * columns. The tiles store all their rows: c has room for a last tile's rows past {@code rows}, which get zero. The
     * larger operand is read once, the smaller one (a few KiB: one panel of b, or one tile of a) again for each tile or panel
     * of the other.
     */
    private static void product(float[] a, int ao, int tileStride, int step, int rows, int depth, float[] b, int bo, int bs, int panels,
                                int width, float[] c, int co, int cs, boolean add) {
        int tileCount = (rows + TILE - 1) / TILE, panelCount = width / WIDE;
        boolean tilesOutside = tileCount * TILE > width; // a has more rows than b has columns
        for (int outer = 0; outer < (tilesOutside ? tileCount : panelCount); outer++) {
            for (int inner = 0; inner < (tilesOutside ? panelCount : tileCount); inner++) {
                int t = tilesOutside ? outer : inner, x = tilesOutside ? inner : outer;
                int from = ao + t * tileStride, right = bo + x * panels, at = co + t * TILE * cs + x * WIDE;
                if (TILE == 8) PanelProduct.tile8x2(a, from, step, depth, b, right, bs, c, at, cs, add);
                else PanelProduct.tile3x2(a, from, step, depth, b, right, bs, c, at, cs, add);
            }
        }
    }

    /**
     * Head kh of sequence b of x [rows, kvHeads * headDim] in panels of WIDE positions, each dimension-major [headDim, WIDE]
     * (zeros past the last position), in this thread's array from {@code scratch}: a product's step reads one run, where rows
     * of all positions (padded() floats apart) put a panel's headDim runs in a handful of L1 sets.
     */
    private float[] positionPanels(float[] x, int b, int kh, Scratch scratch) {
        float[] t = scratch.floats(headDim * padded());
        for (int j = 0; j < padded(); j++) {
            int at = j / WIDE * headDim * WIDE + j % WIDE, from = j < tokens ? row(b, j) * kvWidth() + kh * headDim : -1;
            for (int d = 0; d < headDim; d++) t[at + d * WIDE] = from < 0 ? 0f : x[from + d];
        }
        return t;
    }

    /**
     * Head kh of sequence b of x [rows, kvHeads * headDim] as rows [padded(), paddedDim()], zeros where padded (a zero
     * weight times what was left there could be NaN), in this thread's array from {@code scratch}.
     */
    private float[] rowsPadded(float[] x, int b, int kh, Scratch scratch) {
        float[] r = zeros(scratch, padded() * paddedDim());
        gather(x, b, 0, tokens, kvWidth(), kh * headDim, r);
        return r;
    }

    /** rows[r * paddedDim() + d] = x[row(b, i0 + r) * width + offset + d] for r in [0, n), d in [0, headDim). */
    private void gather(float[] x, int b, int i0, int n, int width, int offset, float[] rows) {
        for (int r = 0; r < n; r++) System.arraycopy(x, row(b, i0 + r) * width + offset, rows, r * paddedDim(), headDim);
    }

    /** The inverse of {@link #gather}: x[row(b, i0 + r) * width + offset + d] = rows[r * paddedDim() + d]. */
    private void scatter(float[] rows, float[] x, int b, int i0, int n, int width, int offset) {
        for (int r = 0; r < n; r++) System.arraycopy(rows, r * paddedDim(), x, row(b, i0 + r) * width + offset, headDim);
    }

    /** The first key any of the queries from i0 on can see, rounded down to whole units. */
    private int firstKey(int i0) { return window > 0 ? Math.max(0, i0 - window + 1) / UNIT * UNIT : 0; }

    /** The end of the keys queries before i1 can see, rounded up to whole units. */
    private static int keyEnd(int i1) { return roundUp(i1, UNIT); }

    private int padded() { return roundUp(tokens, UNIT); }

    private int paddedDim() { return roundUp(headDim, WIDE); }

    private static int roundUp(int n, int step) { return (n + step - 1) / step * step; }

    private int row(int b, int t) { return b * tokens + t; }

    private int group() { return heads / kvHeads; }

    private int kvWidth() { return kvHeads * headDim; }
}
