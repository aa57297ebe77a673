package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import java.util.Arrays;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Both products a training pass needs with a frozen linear layer w [out, in] read in its stored dtype
 * (F32/F16/BF16): forward {@code y[rows, out] = x[rows, in] · wᵀ + bias} and input gradient
 * {@code dx[rows, in] += dy[rows, out] · w}. Both are {@code C[rows, n] = A[rows, k] · B[k, n]}: a task
 * owns a block of columns of C (two vectors wide) and a block of rows; it packs its columns of B into
 * fp32 scratch [k, columns] once (w's rows for the gradient, w transposed for the forward), then runs
 * four rows at a time over all of k with eight accumulators in registers, so each vector of B feeds
 * four multiply-adds. No sum is ever taken across vector lanes: every output is one chain of fused
 * multiply-adds in k order, so results do not depend on the JIT tier or the split over cores (a
 * resumed training run then repeats an uninterrupted one bit for bit, which {@link MatMul}'s lane
 * reductions do not guarantee).
 */
public final class LinearProducts {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final int COLUMNS = 2 * L;        // output columns per task
    private static final int MIN_ROWS_PER_TASK = 64;  // below this, packing B again costs more than splitting gains
    private static final long SERIAL_WORK = 1L << 16; // multiply-adds below which forking costs more than it saves
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private LinearProducts() {}

    /** y [rows, out] = x [rows, in] · wᵀ + bias (bias [out] or null). */
    public static void forward(float[] x, int rows, TensorView w, float[] bias, float[] y) {
        checkShapes(x, rows, w, y, "input", "output", true);
        if (bias != null && bias.length != w.dim(0))
            throw new IllegalArgumentException("bias has " + bias.length + " floats, " + w + " has " + w.dim(0) + " rows");
        int out = w.dim(0), in = w.dim(1);
        product(x, rows, in, out, y, bias, false, (c0, width, packed) -> {
            float[] row = new float[in];
            for (int c = 0; c < width; c++) {
                w.copyTo((long) (c0 + c) * in, row, 0, in);
                for (int i = 0; i < in; i++) packed[i * COLUMNS + c] = row[i];
            }
        });
    }

    /** dx [rows, in] += dy [rows, out] · w. */
    public static void addInputGradient(float[] dy, int rows, TensorView w, float[] dx) {
        checkShapes(dy, rows, w, dx, "output gradient", "input gradient", false);
        int out = w.dim(0), in = w.dim(1);
        product(dy, rows, out, in, dx, null, true, (c0, width, packed) -> {
            for (int o = 0; o < out; o++) w.copyTo((long) o * in + c0, packed, o * COLUMNS, width);
        });
    }

    /** The scalar twin of {@link #forward}: one fused multiply-add chain per output, reading the weight element by element. */
    public static void forwardScalar(float[] x, int rows, TensorView w, float[] bias, float[] y) {
        checkShapes(x, rows, w, y, "input", "output", true);
        int out = w.dim(0), in = w.dim(1);
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) {
                float sum = 0;
                for (int i = 0; i < in; i++) sum = Math.fma(x[r * in + i], w.get((long) o * in + i), sum);
                y[r * out + o] = sum + (bias == null ? 0 : bias[o]);
            }
    }

    /** The scalar twin of {@link #addInputGradient}. */
    public static void addInputGradientScalar(float[] dy, int rows, TensorView w, float[] dx) {
        checkShapes(dy, rows, w, dx, "output gradient", "input gradient", false);
        int out = w.dim(0), in = w.dim(1);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < in; i++) {
                float sum = 0;
                for (int o = 0; o < out; o++) sum = Math.fma(dy[r * out + o], w.get((long) o * in + i), sum);
                dx[r * in + i] += sum;
            }
    }

    private static void checkShapes(float[] a, int rows, TensorView w, float[] c, String aName, String cName, boolean forward) {
        if (w.rank() != 2) throw new IllegalArgumentException("weight " + w + " is not a matrix");
        int aWidth = forward ? w.dim(1) : w.dim(0), cWidth = forward ? w.dim(0) : w.dim(1);
        if ((long) rows * aWidth > a.length)
            throw new IllegalArgumentException(aName + " has " + a.length + " floats, " + rows + " rows x " + aWidth + " needed for " + w);
        if ((long) rows * cWidth > c.length)
            throw new IllegalArgumentException(cName + " has " + c.length + " floats, " + rows + " rows x " + cWidth + " needed for " + w);
    }

    /** Writes B's columns [c0, c0 + width) as fp32 into packed [k, COLUMNS]. */
    private interface Packer {
        void pack(int c0, int width, float[] packed);
    }

    /** c [rows, n] = (accumulate ? c : bias or 0) + a [rows, k] · B [k, n]. */
    private static void product(float[] a, int rows, int k, int n, float[] c, float[] bias, boolean accumulate, Packer packer) {
        int columnBlocks = (n + COLUMNS - 1) / COLUMNS;
        int rowBlocks = Math.max(1, Math.min((rows + MIN_ROWS_PER_TASK - 1) / MIN_ROWS_PER_TASK,
                (4 * Parallel.cores() + columnBlocks - 1) / columnBlocks));
        int rowsPerBlock = (rows + rowBlocks - 1) / rowBlocks;
        IntConsumer task = t -> {
            int c0 = (t % columnBlocks) * COLUMNS, r0 = (t / columnBlocks) * rowsPerBlock;
            if (r0 < rows) block(a, k, n, c, bias, accumulate, packer, c0, r0, Math.min(rows, r0 + rowsPerBlock));
        };
        int tasks = columnBlocks * rowBlocks;
        if ((long) rows * k * n < SERIAL_WORK) {
            for (int t = 0; t < tasks; t++) task.accept(t);
        } else {
            Parallel.forEach(tasks, task);
        }
    }

    /** Rows [r0, r1) and columns [c0, c0 + COLUMNS) (clipped to n). */
    private static void block(float[] a, int k, int n, float[] c, float[] bias, boolean accumulate, Packer packer, int c0, int r0, int r1) {
        int width = Math.min(COLUMNS, n - c0);
        float[] packed = scratch(k * COLUMNS); // [k, COLUMNS] fp32; columns past width are zero
        if (width < COLUMNS) Arrays.fill(packed, 0, k * COLUMNS, 0f);
        packer.pack(c0, width, packed);
        float[] sums = new float[4 * COLUMNS]; // [4 rows, COLUMNS]
        for (int r = r0; r < r1; r += 4) {
            int m = Math.min(4, r1 - r);
            // a short last group repeats its last row: the extra sums are computed and dropped
            rows4(a, k, r * k, (r + Math.min(1, m - 1)) * k, (r + Math.min(2, m - 1)) * k, (r + m - 1) * k, packed, sums);
            for (int q = 0; q < m; q++) {
                int at = (r + q) * n + c0;
                for (int j = 0; j < width; j++) {
                    float start = accumulate ? c[at + j] : bias == null ? 0 : bias[c0 + j];
                    c[at + j] = start + sums[q * COLUMNS + j];
                }
            }
        }
    }

    /** sums[q, :] = sum over i of a[aq + i] * packed[i, :] for the four rows q starting at a0..a3. */
    private static void rows4(float[] a, int k, int a0, int a1, int a2, int a3, float[] packed, float[] sums) {
        FloatVector s00 = FloatVector.zero(F), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        for (int i = 0; i < k; i++) {
            FloatVector b0 = FloatVector.fromArray(F, packed, i * COLUMNS), b1 = FloatVector.fromArray(F, packed, i * COLUMNS + L);
            FloatVector g0 = FloatVector.broadcast(F, a[a0 + i]);
            s00 = g0.fma(b0, s00);
            s01 = g0.fma(b1, s01);
            FloatVector g1 = FloatVector.broadcast(F, a[a1 + i]);
            s10 = g1.fma(b0, s10);
            s11 = g1.fma(b1, s11);
            FloatVector g2 = FloatVector.broadcast(F, a[a2 + i]);
            s20 = g2.fma(b0, s20);
            s21 = g2.fma(b1, s21);
            FloatVector g3 = FloatVector.broadcast(F, a[a3 + i]);
            s30 = g3.fma(b0, s30);
            s31 = g3.fma(b1, s31);
        }
        s00.intoArray(sums, 0);
        s01.intoArray(sums, L);
        s10.intoArray(sums, COLUMNS);
        s11.intoArray(sums, COLUMNS + L);
        s20.intoArray(sums, 2 * COLUMNS);
        s21.intoArray(sums, 2 * COLUMNS + L);
        s30.intoArray(sums, 3 * COLUMNS);
        s31.intoArray(sums, 3 * COLUMNS + L);
    }

    private static float[] scratch(int size) {
        float[] s = SCRATCH.get();
        if (s.length < size) {
            s = new float[size];
            SCRATCH.set(s);
        }
        return s;
    }
}
