package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link MatMul}'s path for many tokens (a prompt, an image's patches): a block of weight rows is
 * converted once per input chunk into panels of L rows stored column by column, so one vector load
 * holds one input column of L output rows. Eight tokens (three with AVX2's 16 vector registers) then run
 * against three panels at a time (against two or one for a block's last panels): each
 * step broadcasts one input of each token and multiply-adds it into 24 (9) accumulators of L outputs,
 * with no horizontal sums (the sum over inputs runs in order within each lane). The first input chunk's
 * sums are stored with the bias added and later chunks' added to them, so the output is not filled with
 * the bias beforehand (that extra pass cost OPT-125m's prompts 3-3.5 % of their time).
 * <p>A step reads one place in each operand: the three panels a tile takes are stored interleaved (a stripe, [columns, 3, L]),
 * and the input arrives as {@link #tokenTiles}, a tile's eight inputs of one column side by side. With three panels kc L
 * apart and eight token rows in apart, a step read eleven streams: fp32 products of 512 tokens took 0.87-0.94 of the time
 * without the rearranging ([768, 768] to [2048, 8192], in turns with the old layout), and so did AVX2's 3 x 3 tile
 * (0.86-0.88); whole 512-token prompts of OPT-125m, OPT-1.3b and Llama-1B took 0.88-0.96.
 */
final class PanelProduct {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    // tokens per step of the token loop (one TILE x 3 tile, or one TILE x 2): eight where there are 32 vector registers
    // (AVX-512, Arm), three where there are 16 (AVX2), since 8 x 3 accumulators in 16 registers spill on every input
    static final int TILE = VectorRegisters.COUNT >= 32 ? 8 : 3;
    private static final Scratch PANELS = new Scratch();
    private static final Scratch PACK_BUFFER = new Scratch();
    private static final Scratch TOKEN_TILES = new Scratch();
    // columns of a group converted at a time: L x 256 floats (16 KiB) stay in L1, and each weight row is read in runs of
    // 256 values (OPT-1.3b fp32 prompts timed in turn against 128 columns: 0.958 and 0.976 of the time; 512 columns timed
    // about as well on the Xeon, but their 32 KiB would fill Zen 4's whole L1)
    private static final int PACK_COLUMNS = 256;
    private static final int[] GATHER = new int[L];  // lane r reads row r of the pack buffer

    static {
        for (int r = 0; r < L; r++) GATHER[r] = r * PACK_COLUMNS;
    }

    private PanelProduct() {}

    /**
     * x [tokens, in] rearranged for the tiles: tile i holds tokens [i TILE, (i + 1) TILE) as [in, TILE], the TILE inputs of
     * one column side by side, so that each step of a tile reads its broadcasts from one place; the last tile is padded with
     * zeros. The array is this thread's, valid until its next call.
     */
    static float[] tokenTiles(float[] x, int tokens, int in) {
        int tiles = (tokens + TILE - 1) / TILE;
        float[] tiled = TOKEN_TILES.floats(tiles * in * TILE);
        // where the gather of one vector of a tile (L / TILE columns of TILE tokens) reads, from its first column's token 0
        int[] reads = new int[L];
        for (int l = 0; l < L; l++) reads[l] = l % TILE * in + l / TILE;
        Parallel.forEach(tiles, i -> {
            int base = i * in * TILE, real = Math.min(TILE, tokens - i * TILE), done = 0;
            if (real == TILE && L % TILE == 0) {
                for (int end = F.loopBound(in * TILE); done < end; done += L) {
                    FloatVector.fromArray(F, x, i * TILE * in + done / TILE, reads, 0).intoArray(tiled, base + done);
                }
            }
            for (int f = done; f < in * TILE; f++) tiled[base + f] = f % TILE < real ? x[(i * TILE + f % TILE) * in + f / TILE] : 0f;
        });
        return tiled;
    }

    /**
     * out[t, o0 .. o1) = bias + x[t, :] . w[o, :] for every token, using input chunks of {@code chunk} columns; x as
     * {@link #tokenTiles}.
     */
    static void multiplyRows(float[] tiled, int tokens, int in, TensorView w, float[] bias, float[] out, int outDim, int o0, int o1, int chunk) {
        product(tiled, tokens, in, w, false, bias, out, outDim, o0, o1, chunk);
    }

    /**
     * out[t, o0 .. o1) += x[t, :] . w[:, o] for every token, w [in, outDim]: the input gradient of a linear layer, whose
     * weight's columns are the outputs. Its panels are plain runs of weight rows, so packing them needs no gather.
     */
    static void addColumns(float[] tiled, int tokens, int in, TensorView w, float[] out, int outDim, int o0, int o1, int chunk) {
        product(tiled, tokens, in, w, true, null, out, outDim, o0, o1, chunk);
    }

    private static void product(float[] tiled, int tokens, int in, TensorView w, boolean columns, float[] bias, float[] out, int outDim,
                                int o0, int o1, int chunk) {
        int rows = o1 - o0, groups = (rows + L - 1) / L;
        float[] panels = PANELS.floats(groups * L * Math.min(in, chunk)); // stripes of [kc, panels, L]
        float[] buffer = columns ? null : PACK_BUFFER.floats(L * PACK_COLUMNS);
        float[] lanes = new float[TILE * 3 * L]; // the widest tile's accumulators, parked for flush
        for (int k0 = 0; k0 < in; k0 += chunk) {
            int kc = Math.min(chunk, in - k0);
            if (columns) packColumns(w, outDim, o0, rows, k0, kc, panels);
            else pack(w, in, o0, rows, k0, kc, panels, buffer);
            // what the sums add to: the bias (the same row for every token) in the first chunk, then the output so far
            float[] prior = k0 == 0 && !columns ? bias : out;
            int priorRow = k0 == 0 && !columns ? 0 : outDim;
            for (int t = 0; t < tokens; t += TILE) {
                int xo = t * in + k0 * TILE, real = Math.min(TILE, tokens - t); // tile t / TILE starts at t * in
                int g = 0;
                for (; g + 2 < groups; g += 3) {
                    if (TILE == 8) tile8x3(tiled, xo, kc, panels, g * kc * L, lanes);
                    else tile3x3(tiled, xo, kc, panels, g * kc * L, lanes);
                    flush(lanes, 3, real, prior, t * priorRow + o0 + g * L, priorRow, out, t * outDim + o0 + g * L, outDim, rows - g * L);
                }
                for (; g + 1 < groups; g += 2) {
                    if (TILE == 8) tile8x2(tiled, xo, TILE, kc, panels, g * kc * L, 2 * L, lanes, 0, 2 * L, false);
                    else tile3x2(tiled, xo, TILE, kc, panels, g * kc * L, 2 * L, lanes, 0, 2 * L, false);
                    flush(lanes, 2, real, prior, t * priorRow + o0 + g * L, priorRow, out, t * outDim + o0 + g * L, outDim, rows - g * L);
                }
                if (g < groups) {
                    if (TILE == 8) tile8x1(tiled, xo, kc, panels, g * kc * L, lanes);
                    else tile3x1(tiled, xo, kc, panels, g * kc * L, lanes);
                    flush(lanes, 1, real, prior, t * priorRow + o0 + g * L, priorRow, out, t * outDim + o0 + g * L, outDim, rows - g * L);
                }
            }
        }
    }

    /**
     * Columns [k0, k0 + kc) of rows o0 + [0, rows) as panels of L rows, in stripes of three (two or one at the end, as the
     * tiles take them) stored [kc, panels, L]: a tile's step reads one run of its stripe. Rows past the end are zeros.
     * A group's L rows are converted {@value #PACK_COLUMNS} columns at a time into a small buffer,
     * then each column of L values is gathered from it in one vector (storing one value at a time
     * with stride L took about a tenth of a bf16 prompt's time).
     */
    private static void pack(TensorView w, int in, int o0, int rows, int k0, int kc, float[] panels, float[] buffer) {
        int groups = (rows + L - 1) / L;
        for (int g = 0; g < groups; g++) {
            int stripe = g - g % 3, width = Math.min(3, groups - stripe); // the tiles' stripes: threes, then a two or a one
            int real = Math.min(L, rows - g * L), base = stripe * kc * L + (g - stripe) * L;
            for (int c0 = 0; c0 < kc; c0 += PACK_COLUMNS) {
                int cc = Math.min(PACK_COLUMNS, kc - c0);
                for (int r = 0; r < L; r++) {
                    if (r < real) StoredFloats.copy(w, (long) (o0 + g * L + r) * in + k0 + c0, buffer, r * PACK_COLUMNS, cc);
                    else Arrays.fill(buffer, r * PACK_COLUMNS, r * PACK_COLUMNS + cc, 0f);
                }
                for (int c = 0; c < cc; c++) FloatVector.fromArray(F, buffer, c, GATHER, 0).intoArray(panels, base + (c0 + c) * width * L);
            }
        }
    }

    /**
     * {@link #pack} for a weight w [.., outDim] whose columns o0 + [0, rows) are the panels' rows: each step of a stripe is a
     * run of a weight row, converted straight into place.
     */
    private static void packColumns(TensorView w, int outDim, int o0, int rows, int k0, int kc, float[] panels) {
        int groups = (rows + L - 1) / L;
        for (int c = 0; c < kc; c++) {
            for (int stripe = 0; stripe < groups; stripe += 3) {
                int width = Math.min(3, groups - stripe), real = Math.min(width * L, rows - stripe * L);
                int at = stripe * kc * L + c * width * L;
                StoredFloats.copy(w, (long) (k0 + c) * outDim + o0 + stripe * L, panels, at, real);
                Arrays.fill(panels, at + real, at + width * L, 0f);
            }
        }
    }

    /**
     * Eight tokens (a tile of {@link #tokenTiles} from xo) against a stripe of three panels (from p): the sums of token j
     * and panel q into lanes[(3 j + q) L ..], for {@link #flush}. Three weight loads and eight broadcasts feed 24
     * multiply-adds, in 24 of the 32 vector registers, so each weight vector loaded serves eight tokens. Four tokens
     * against four panels (the tile this replaced, 16 accumulators) load the panels from L2 twice as often: alone on a
     * Xeon (Emerald Rapids) core that tile ran at 50-65 GFLOP/s, and this one at 1.19-1.36 times that, for input chunks
     * of 256 to 2048 columns (a scratch timing, both in one JVM).
     */
    private static void tile8x3(float[] x, int xo, int kc, float[] panels, int p, float[] lanes) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00, a20 = a00, a21 = a00;
        FloatVector a22 = a00, a30 = a00, a31 = a00, a32 = a00, a40 = a00, a41 = a00, a42 = a00, a50 = a00;
        FloatVector a51 = a00, a52 = a00, a60 = a00, a61 = a00, a62 = a00, a70 = a00, a71 = a00, a72 = a00;
        for (int k = 0; k < kc; k++) {
            int wk = p + 3 * k * L, xk = xo + k * TILE;
            FloatVector w0 = FloatVector.fromArray(F, panels, wk), w1 = FloatVector.fromArray(F, panels, wk + L);
            FloatVector w2 = FloatVector.fromArray(F, panels, wk + 2 * L);
            FloatVector b = FloatVector.broadcast(F, x[xk]);
            a00 = w0.fma(b, a00);
            a01 = w1.fma(b, a01);
            a02 = w2.fma(b, a02);
            b = FloatVector.broadcast(F, x[xk + 1]);
            a10 = w0.fma(b, a10);
            a11 = w1.fma(b, a11);
            a12 = w2.fma(b, a12);
            b = FloatVector.broadcast(F, x[xk + 2]);
            a20 = w0.fma(b, a20);
            a21 = w1.fma(b, a21);
            a22 = w2.fma(b, a22);
            b = FloatVector.broadcast(F, x[xk + 3]);
            a30 = w0.fma(b, a30);
            a31 = w1.fma(b, a31);
            a32 = w2.fma(b, a32);
            b = FloatVector.broadcast(F, x[xk + 4]);
            a40 = w0.fma(b, a40);
            a41 = w1.fma(b, a41);
            a42 = w2.fma(b, a42);
            b = FloatVector.broadcast(F, x[xk + 5]);
            a50 = w0.fma(b, a50);
            a51 = w1.fma(b, a51);
            a52 = w2.fma(b, a52);
            b = FloatVector.broadcast(F, x[xk + 6]);
            a60 = w0.fma(b, a60);
            a61 = w1.fma(b, a61);
            a62 = w2.fma(b, a62);
            b = FloatVector.broadcast(F, x[xk + 7]);
            a70 = w0.fma(b, a70);
            a71 = w1.fma(b, a71);
            a72 = w2.fma(b, a72);
        }
        a00.intoArray(lanes, 0);
        a01.intoArray(lanes, 1 * L);
        a02.intoArray(lanes, 2 * L);
        a10.intoArray(lanes, 3 * L);
        a11.intoArray(lanes, 4 * L);
        a12.intoArray(lanes, 5 * L);
        a20.intoArray(lanes, 6 * L);
        a21.intoArray(lanes, 7 * L);
        a22.intoArray(lanes, 8 * L);
        a30.intoArray(lanes, 9 * L);
        a31.intoArray(lanes, 10 * L);
        a32.intoArray(lanes, 11 * L);
        a40.intoArray(lanes, 12 * L);
        a41.intoArray(lanes, 13 * L);
        a42.intoArray(lanes, 14 * L);
        a50.intoArray(lanes, 15 * L);
        a51.intoArray(lanes, 16 * L);
        a52.intoArray(lanes, 17 * L);
        a60.intoArray(lanes, 18 * L);
        a61.intoArray(lanes, 19 * L);
        a62.intoArray(lanes, 20 * L);
        a70.intoArray(lanes, 21 * L);
        a71.intoArray(lanes, 22 * L);
        a72.intoArray(lanes, 23 * L);
    }

    /**
     * Eight tokens (a tile of {@link #tokenTiles} from xo, a step of the tile xStep floats on) against a stripe of two panels
     * (from p, a step of the stripe {@code step} floats on): the sum of token j and panel q into out[o + j * stride + q * L ..],
     * starting from what is there if {@code add}. The prompt products park their sums in lanes for {@link #flush}; attention's products
     * ({@link CausalSelfAttention}) store them in place, with a whole row of their right-hand matrix as the step. In a scratch
     * timing of attention's shapes (Xeon, one core, depth 64 or 768), parked and flushed they ran at 55-99 GFLOP/s, in
     * place at 114-141, and the tile alone at 132; whole attention passes timed in turns did not tell the two apart.
     */
    static void tile8x2(float[] x, int xo, int xStep, int kc, float[] panels, int p, int step, float[] out, int o, int stride, boolean add) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        FloatVector a40 = a00, a41 = a00, a50 = a00, a51 = a00, a60 = a00, a61 = a00, a70 = a00, a71 = a00;
        if (add) {
            a00 = FloatVector.fromArray(F, out, o);
            a01 = FloatVector.fromArray(F, out, o + L);
            a10 = FloatVector.fromArray(F, out, o + stride);
            a11 = FloatVector.fromArray(F, out, o + stride + L);
            a20 = FloatVector.fromArray(F, out, o + 2 * stride);
            a21 = FloatVector.fromArray(F, out, o + 2 * stride + L);
            a30 = FloatVector.fromArray(F, out, o + 3 * stride);
            a31 = FloatVector.fromArray(F, out, o + 3 * stride + L);
            a40 = FloatVector.fromArray(F, out, o + 4 * stride);
            a41 = FloatVector.fromArray(F, out, o + 4 * stride + L);
            a50 = FloatVector.fromArray(F, out, o + 5 * stride);
            a51 = FloatVector.fromArray(F, out, o + 5 * stride + L);
            a60 = FloatVector.fromArray(F, out, o + 6 * stride);
            a61 = FloatVector.fromArray(F, out, o + 6 * stride + L);
            a70 = FloatVector.fromArray(F, out, o + 7 * stride);
            a71 = FloatVector.fromArray(F, out, o + 7 * stride + L);
        }
        for (int k = 0; k < kc; k++) {
            int wk = p + k * step, xk = xo + k * xStep;
            FloatVector w0 = FloatVector.fromArray(F, panels, wk), w1 = FloatVector.fromArray(F, panels, wk + L);
            FloatVector b = FloatVector.broadcast(F, x[xk]);
            a00 = w0.fma(b, a00);
            a01 = w1.fma(b, a01);
            b = FloatVector.broadcast(F, x[xk + 1]);
            a10 = w0.fma(b, a10);
            a11 = w1.fma(b, a11);
            b = FloatVector.broadcast(F, x[xk + 2]);
            a20 = w0.fma(b, a20);
            a21 = w1.fma(b, a21);
            b = FloatVector.broadcast(F, x[xk + 3]);
            a30 = w0.fma(b, a30);
            a31 = w1.fma(b, a31);
            b = FloatVector.broadcast(F, x[xk + 4]);
            a40 = w0.fma(b, a40);
            a41 = w1.fma(b, a41);
            b = FloatVector.broadcast(F, x[xk + 5]);
            a50 = w0.fma(b, a50);
            a51 = w1.fma(b, a51);
            b = FloatVector.broadcast(F, x[xk + 6]);
            a60 = w0.fma(b, a60);
            a61 = w1.fma(b, a61);
            b = FloatVector.broadcast(F, x[xk + 7]);
            a70 = w0.fma(b, a70);
            a71 = w1.fma(b, a71);
        }
        a00.intoArray(out, o);
        a01.intoArray(out, o + L);
        a10.intoArray(out, o + stride);
        a11.intoArray(out, o + stride + L);
        a20.intoArray(out, o + 2 * stride);
        a21.intoArray(out, o + 2 * stride + L);
        a30.intoArray(out, o + 3 * stride);
        a31.intoArray(out, o + 3 * stride + L);
        a40.intoArray(out, o + 4 * stride);
        a41.intoArray(out, o + 4 * stride + L);
        a50.intoArray(out, o + 5 * stride);
        a51.intoArray(out, o + 5 * stride + L);
        a60.intoArray(out, o + 6 * stride);
        a61.intoArray(out, o + 6 * stride + L);
        a70.intoArray(out, o + 7 * stride);
        a71.intoArray(out, o + 7 * stride + L);
    }

    /**
     * {@link #tile8x3} for three tokens, where there are 16 vector registers (AVX2): nine accumulators, three weight
     * vectors and three broadcasts (the JIT loads every broadcast before the multiply-adds) take 15. Prompt products on
     * the Xeon limited to AVX2 (-XX:UseAVX=2), 512 tokens, fp32, [768, 768] and [2048, 2048]: a four-token tile (19
     * registers: four accumulators spill) took 0.72-0.76 of the eight-token tile's time, and this one 0.94-0.99 of the
     * four-token tile's. OpenBLAS's AVX2 kernels still take about 0.6 of this tile's time.
     */
    private static void tile3x3(float[] x, int xo, int kc, float[] panels, int p, float[] lanes) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00;
        for (int k = 0; k < kc; k++) {
            int wk = p + 3 * k * L, xk = xo + k * TILE;
            FloatVector w0 = FloatVector.fromArray(F, panels, wk), w1 = FloatVector.fromArray(F, panels, wk + L);
            FloatVector w2 = FloatVector.fromArray(F, panels, wk + 2 * L);
            FloatVector b = FloatVector.broadcast(F, x[xk]);
            a00 = w0.fma(b, a00);
            a01 = w1.fma(b, a01);
            a02 = w2.fma(b, a02);
            b = FloatVector.broadcast(F, x[xk + 1]);
            a10 = w0.fma(b, a10);
            a11 = w1.fma(b, a11);
            a12 = w2.fma(b, a12);
            b = FloatVector.broadcast(F, x[xk + 2]);
            a20 = w0.fma(b, a20);
            a21 = w1.fma(b, a21);
            a22 = w2.fma(b, a22);
        }
        a00.intoArray(lanes, 0);
        a01.intoArray(lanes, 1 * L);
        a02.intoArray(lanes, 2 * L);
        a10.intoArray(lanes, 3 * L);
        a11.intoArray(lanes, 4 * L);
        a12.intoArray(lanes, 5 * L);
        a20.intoArray(lanes, 6 * L);
        a21.intoArray(lanes, 7 * L);
        a22.intoArray(lanes, 8 * L);
    }

    /** {@link #tile8x2} for three tokens (see {@link #tile3x3}). */
    static void tile3x2(float[] x, int xo, int xStep, int kc, float[] panels, int p, int step, float[] out, int o, int stride, boolean add) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        if (add) {
            a00 = FloatVector.fromArray(F, out, o);
            a01 = FloatVector.fromArray(F, out, o + L);
            a10 = FloatVector.fromArray(F, out, o + stride);
            a11 = FloatVector.fromArray(F, out, o + stride + L);
            a20 = FloatVector.fromArray(F, out, o + 2 * stride);
            a21 = FloatVector.fromArray(F, out, o + 2 * stride + L);
        }
        for (int k = 0; k < kc; k++) {
            int wk = p + k * step, xk = xo + k * xStep;
            FloatVector w0 = FloatVector.fromArray(F, panels, wk), w1 = FloatVector.fromArray(F, panels, wk + L);
            FloatVector b = FloatVector.broadcast(F, x[xk]);
            a00 = w0.fma(b, a00);
            a01 = w1.fma(b, a01);
            b = FloatVector.broadcast(F, x[xk + 1]);
            a10 = w0.fma(b, a10);
            a11 = w1.fma(b, a11);
            b = FloatVector.broadcast(F, x[xk + 2]);
            a20 = w0.fma(b, a20);
            a21 = w1.fma(b, a21);
        }
        a00.intoArray(out, o);
        a01.intoArray(out, o + L);
        a10.intoArray(out, o + stride);
        a11.intoArray(out, o + stride + L);
        a20.intoArray(out, o + 2 * stride);
        a21.intoArray(out, o + 2 * stride + L);
    }

    /**
     * The sums a tile parked in lanes (token j, panel q at (panels j + q) L) plus prior (at po + j * priorRow) to out at
     * oo + j * stride for the tile's first {@code tokens} tokens (the rest is padding of the last tile), L outputs per panel,
     * {@code valid} of them real (the rest is padding of the last panel). The tiles
     * used to call {@link #store} once per accumulator themselves; the JIT stops inlining in methods as large as they
     * are, so every such call boxed its vector. Parked and flushed instead, 512-token products took 0.80 ([768, 768]),
     * 0.83 ([2048, 2048]) and 0.66 ([2048, 8192], four input chunks) of the time in fp32, 0.86 in bf16 ([768, 3072]).
     */
    private static void flush(float[] lanes, int panels, int tokens, float[] prior, int po, int priorRow, float[] out, int oo, int stride,
                              int valid) {
        for (int j = 0; j < tokens; j++) {
            for (int q = 0; q < panels; q++) {
                store(FloatVector.fromArray(F, lanes, (panels * j + q) * L), prior, po + j * priorRow + q * L, out, oo + j * stride + q * L, valid - q * L);
            }
        }
    }

    /**
     * Eight tokens against a block's last, single panel: the sums of token j into lanes[j L ..], each in the order of the
     * wider tiles. Blocks hold whole threes of panels, so with 16-float vectors a weight of 48 n + 16 rows leaves one such
     * block: 4096, 11008 and 16384 rows, every layer of OPT-6.7B and Llama-2-7B. Run one token at a time (a chain of
     * dependent multiply-adds, as before), that block took as long as several whole ones: 512-token products of a
     * [1024, 4096] weight took 0.93 of the time with this tile in fp32 and 0.84-0.94 in fp16 (in turns in one JVM).
     */
    private static void tile8x1(float[] x, int xo, int kc, float[] panels, int p, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int k = 0; k < kc; k++) {
            FloatVector w = FloatVector.fromArray(F, panels, p + k * L);
            int xk = xo + k * TILE;
            a0 = w.fma(FloatVector.broadcast(F, x[xk]), a0);
            a1 = w.fma(FloatVector.broadcast(F, x[xk + 1]), a1);
            a2 = w.fma(FloatVector.broadcast(F, x[xk + 2]), a2);
            a3 = w.fma(FloatVector.broadcast(F, x[xk + 3]), a3);
            a4 = w.fma(FloatVector.broadcast(F, x[xk + 4]), a4);
            a5 = w.fma(FloatVector.broadcast(F, x[xk + 5]), a5);
            a6 = w.fma(FloatVector.broadcast(F, x[xk + 6]), a6);
            a7 = w.fma(FloatVector.broadcast(F, x[xk + 7]), a7);
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        a4.intoArray(lanes, 4 * L);
        a5.intoArray(lanes, 5 * L);
        a6.intoArray(lanes, 6 * L);
        a7.intoArray(lanes, 7 * L);
    }

    /** {@link #tile8x1} for three tokens (see {@link #tile3x3}). */
    private static void tile3x1(float[] x, int xo, int kc, float[] panels, int p, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0;
        for (int k = 0; k < kc; k++) {
            FloatVector w = FloatVector.fromArray(F, panels, p + k * L);
            int xk = xo + k * TILE;
            a0 = w.fma(FloatVector.broadcast(F, x[xk]), a0);
            a1 = w.fma(FloatVector.broadcast(F, x[xk + 1]), a1);
            a2 = w.fma(FloatVector.broadcast(F, x[xk + 2]), a2);
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
    }

    /**
     * out[at .. at + min(valid, L)) = the first lanes of acc + prior[po ..], or + 0 when prior is null (so that
     * a sum of -0 comes out as the scalar twin's +0).
     */
    private static void store(FloatVector acc, float[] prior, int po, float[] out, int at, int valid) {
        if (valid >= L) {
            acc.add(prior == null ? FloatVector.zero(F) : FloatVector.fromArray(F, prior, po)).intoArray(out, at);
        } else if (valid > 0) {
            VectorMask<Float> m = F.indexInRange(0, valid);
            acc.add(prior == null ? FloatVector.zero(F) : FloatVector.fromArray(F, prior, po, m)).intoArray(out, at, m);
        }
    }
}
