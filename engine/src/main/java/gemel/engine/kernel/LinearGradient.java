package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import java.util.Arrays;
import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The input gradient of a linear layer, {@code dx[rows, in] += dy[rows, out] · w[out, in]}, reading the
 * weight in its stored dtype (F32/F16/BF16). A task owns a block of input columns (two vectors wide)
 * and a block of rows: it converts its columns of every weight row once into fp32 scratch, then runs
 * four rows at a time over the whole output dimension with the eight accumulators in registers, so
 * each weight vector loaded feeds four multiply-adds and dx is written once per task.
 */
public final class LinearGradient {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final int COLUMNS = 2 * L;        // input columns per task
    private static final int MIN_ROWS_PER_TASK = 64;  // below this, re-converting the weight costs more than splitting gains
    private static final long SERIAL_WORK = 1L << 16; // multiply-adds below which forking costs more than it saves
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private LinearGradient() {}

    /** dx [rows, in] += dy [rows, out] · w, w [out, in]. */
    public static void addInputGradient(float[] dy, int rows, TensorView w, float[] dx) {
        checkShapes(dy, rows, w, dx);
        int out = w.dim(0), in = w.dim(1);
        int columnBlocks = (in + COLUMNS - 1) / COLUMNS;
        int rowBlocks = Math.max(1, Math.min((rows + MIN_ROWS_PER_TASK - 1) / MIN_ROWS_PER_TASK,
                (4 * Parallel.cores() + columnBlocks - 1) / columnBlocks));
        int rowsPerBlock = ((rows + rowBlocks - 1) / rowBlocks + 3) & ~3;
        int tasks = columnBlocks * rowBlocks;
        IntConsumer task = i -> {
            int c0 = (i % columnBlocks) * COLUMNS, r0 = (i / columnBlocks) * rowsPerBlock;
            if (r0 < rows) block(dy, out, in, w, dx, c0, r0, Math.min(rows, r0 + rowsPerBlock));
        };
        if ((long) rows * in * out < SERIAL_WORK) {
            for (int i = 0; i < tasks; i++) task.accept(i);
        } else {
            Parallel.forEach(tasks, task);
        }
    }

    /** The scalar twin of {@link #addInputGradient}: the plain triple loop, reading the weight one element at a time. */
    public static void addInputGradientScalar(float[] dy, int rows, TensorView w, float[] dx) {
        checkShapes(dy, rows, w, dx);
        int out = w.dim(0), in = w.dim(1);
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < in; i++) {
                float sum = 0;
                for (int o = 0; o < out; o++) sum += dy[r * out + o] * w.get((long) o * in + i);
                dx[r * in + i] += sum;
            }
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

    /** Rows [r0, r1) and input columns [c0, c0 + COLUMNS) (clipped to in). */
    private static void block(float[] dy, int out, int in, TensorView w, float[] dx, int c0, int r0, int r1) {
        int width = Math.min(COLUMNS, in - c0);
        float[] wt = scratch(out * COLUMNS); // [out, COLUMNS] fp32; columns past width are zero
        for (int o = 0; o < out; o++) {
            w.copyTo((long) o * in + c0, wt, o * COLUMNS, width);
            if (width < COLUMNS) Arrays.fill(wt, o * COLUMNS + width, (o + 1) * COLUMNS, 0f);
        }
        float[] sums = new float[4 * COLUMNS]; // [4 rows, COLUMNS]
        for (int r = r0; r < r1; r += 4) {
            int n = Math.min(4, r1 - r);
            // a short last group repeats its last row: the extra sums are computed and dropped
            rows4(dy, out, r * out, (r + Math.min(1, n - 1)) * out, (r + Math.min(2, n - 1)) * out, (r + n - 1) * out, wt, sums);
            for (int k = 0; k < n; k++) {
                int d = (r + k) * in + c0;
                for (int j = 0; j < width; j++) dx[d + j] += sums[k * COLUMNS + j];
            }
        }
    }

    /** sums[k, :] = sum over o of dy[yk + o] * wt[o, :] for the four rows k starting at y0..y3. */
    private static void rows4(float[] dy, int out, int y0, int y1, int y2, int y3, float[] wt, float[] sums) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int o = 0; o < out; o++) {
            FloatVector w0 = FloatVector.fromArray(F, wt, o * COLUMNS), w1 = FloatVector.fromArray(F, wt, o * COLUMNS + L);
            FloatVector g0 = FloatVector.broadcast(F, dy[y0 + o]);
            a00 = w0.fma(g0, a00);
            a01 = w1.fma(g0, a01);
            FloatVector g1 = FloatVector.broadcast(F, dy[y1 + o]);
            a10 = w0.fma(g1, a10);
            a11 = w1.fma(g1, a11);
            FloatVector g2 = FloatVector.broadcast(F, dy[y2 + o]);
            a20 = w0.fma(g2, a20);
            a21 = w1.fma(g2, a21);
            FloatVector g3 = FloatVector.broadcast(F, dy[y3 + o]);
            a30 = w0.fma(g3, a30);
            a31 = w1.fma(g3, a31);
        }
        a00.intoArray(sums, 0);
        a01.intoArray(sums, L);
        a10.intoArray(sums, COLUMNS);
        a11.intoArray(sums, COLUMNS + L);
        a20.intoArray(sums, 2 * COLUMNS);
        a21.intoArray(sums, 2 * COLUMNS + L);
        a30.intoArray(sums, 3 * COLUMNS);
        a31.intoArray(sums, 3 * COLUMNS + L);
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
