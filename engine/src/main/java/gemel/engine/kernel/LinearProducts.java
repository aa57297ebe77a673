package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import java.util.Arrays;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The input gradient of a frozen linear layer w [out, in] read in its stored dtype (F32/F16/BF16):
 * {@code dx[rows, in] += dy[rows, out] · w}, the product a training pass needs besides the forward
 * ({@link MatMul}). It is {@code C[rows, n] = A[rows, k] · B[k, n]} with B = w: a task owns a block of
 * columns of C (two vectors wide) and a block of rows; it packs its columns of w into fp32 scratch
 * [k, columns] once, then runs four rows at a time over all of k with eight accumulators in registers,
 * so each vector of w feeds four multiply-adds. No sum is ever taken across vector lanes: every output
 * is one chain of fused multiply-adds in k order, so results do not depend on the JIT tier or the
 * split over cores.
 */
public final class LinearProducts {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final int COLUMNS = 2 * L;        // output columns per task
    private static final int MIN_ROWS_PER_TASK = 64;  // below this, packing w again costs more than splitting gains
    private static final long SERIAL_WORK = 1L << 16; // multiply-adds below which forking costs more than it saves
    private static final Scratch SCRATCH = new Scratch();

    private LinearProducts() {}

    /** dx [rows, in] += dy [rows, out] · w. */
    public static void addInputGradient(float[] dy, int rows, TensorView w, float[] dx) {
        checkShapes(dy, rows, w, dx);
        int out = w.dim(0), in = w.dim(1);
        product(dy, rows, out, in, dx, w);
    }

    /** The scalar twin of {@link #addInputGradient}. */
    public static void addInputGradientScalar(float[] dy, int rows, TensorView w, float[] dx) {
        checkShapes(dy, rows, w, dx);
        int out = w.dim(0), in = w.dim(1);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < in; i++) {
                float sum = 0;
                for (int o = 0; o < out; o++) sum = Math.fma(dy[r * out + o], w.get((long) o * in + i), sum);
                dx[r * in + i] += sum;
            }
    }

    private static void checkShapes(float[] dy, int rows, TensorView w, float[] dx) {
        if (w.rank() != 2) throw new IllegalArgumentException("weight " + w + " is not a matrix");
        int out = w.dim(0), in = w.dim(1);
        if ((long) rows * out > dy.length)
            throw new IllegalArgumentException("output gradient has " + dy.length + " floats, " + rows + " rows x " + out + " needed for " + w);
        if ((long) rows * in > dx.length)
            throw new IllegalArgumentException("input gradient has " + dx.length + " floats, " + rows + " rows x " + in + " needed for " + w);
    }

    /** c [rows, n] += a [rows, k] · w [k, n]. */
    private static void product(float[] a, int rows, int k, int n, float[] c, TensorView w) {
        int columnBlocks = (n + COLUMNS - 1) / COLUMNS;
        int rowBlocks = Math.max(1, Math.min((rows + MIN_ROWS_PER_TASK - 1) / MIN_ROWS_PER_TASK,
                (4 * Parallel.cores() + columnBlocks - 1) / columnBlocks));
        int rowsPerBlock = (rows + rowBlocks - 1) / rowBlocks;
        IntConsumer task = t -> {
            int c0 = (t % columnBlocks) * COLUMNS, r0 = (t / columnBlocks) * rowsPerBlock;
            if (r0 < rows) block(a, k, n, c, w, c0, r0, Math.min(rows, r0 + rowsPerBlock));
        };
        int tasks = columnBlocks * rowBlocks;
        if ((long) rows * k * n < SERIAL_WORK) {
            for (int t = 0; t < tasks; t++) task.accept(t);
        } else {
            Parallel.forEach(tasks, task);
        }
    }

    /** Rows [r0, r1) and columns [c0, c0 + COLUMNS) (clipped to n). */
    private static void block(float[] a, int k, int n, float[] c, TensorView w, int c0, int r0, int r1) {
        int width = Math.min(COLUMNS, n - c0);
        float[] packed = SCRATCH.floats(k * COLUMNS); // [k, COLUMNS] fp32; columns past width are zero
        if (width < COLUMNS) Arrays.fill(packed, 0, k * COLUMNS, 0f);
        for (int i = 0; i < k; i++) w.copyTo((long) i * n + c0, packed, i * COLUMNS, width);
        float[] sums = new float[4 * COLUMNS]; // [4 rows, COLUMNS]
        for (int r = r0; r < r1; r += 4) {
            int m = Math.min(4, r1 - r);
            // a short last group repeats its last row: the extra sums are computed and dropped
            rows4(a, k, r * k, (r + Math.min(1, m - 1)) * k, (r + Math.min(2, m - 1)) * k, (r + m - 1) * k, packed, sums);
            for (int q = 0; q < m; q++) {
                int at = (r + q) * n + c0;
                for (int j = 0; j < width; j++) c[at + j] += sums[q * COLUMNS + j];
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
}
