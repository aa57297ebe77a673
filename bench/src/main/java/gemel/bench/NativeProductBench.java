package gemel.bench;

import gemel.engine.io.TensorView;
import gemel.engine.kernel.MatMul;
import gemel.engine.kernel.Parallel;
import gemel.engine.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * gemel's decode product beside native code, in turns on the same weight bytes: is a decode step below its read
 * bound because of the engine, or because of the machine? The peer is {@code tools/bench/native/decode_product.c}
 * (AVX-512 intrinsics, one thread per core, four row streams per thread), called through the FFM API. Per round
 * each side reads the weight's bytes (gemel with {@link StreamingRead}, C with its own loop, both as four streams per
 * thread, as their products read) and then multiplies one token by it; which side goes first alternates. For BF16 the
 * round ends with the processor's bf16 dot instruction on the same weight, x rounded to bf16: a ceiling for any
 * kernel, not gemel's numerics. Both sides' outputs are compared after the last round, so that a fast but wrong
 * product shows.
 */
final class NativeProductBench {
    private static final DType[] DTYPES = {DType.F32, DType.BF16, DType.F16};
    private static final int F32 = 0, BF16 = 1, F16 = 2, DOT_BF16 = 3; // the kinds of gemel_native_product
    private static final int WARM_ROUNDS = 5;

    private NativeProductBench() {}

    static void run(BenchPlan plan, Path library, ResultLog log) {
        if (!Files.isRegularFile(library)) throw new IllegalArgumentException("no native library at " + library + " (run.sh compiles it)");
        Native peer = new Native(library);
        BenchPlan.NativeProductPlan spec = plan.nativeProduct();
        int cores = Parallel.cores();
        for (int in : spec.widths()) {
            for (DType dtype : DTYPES) {
                long unit = 4L * cores; // the peer's rows per thread are whole quarters
                int rows = Math.toIntExact(spec.bytes() / ((long) in * dtype.bytes()) / unit * unit);
                try (Arena arena = Arena.ofShared()) { // shared: every core reads it
                    Case c = new Case(arena, dtype, rows, in, spec.seed());
                    measure(c, peer, spec.rounds(), cores, log);
                }
            }
        }
    }

    /** One weight, its input and both sides' outputs. */
    private static final class Case {
        final DType dtype;
        final int rows, in;
        final MemorySegment weight, x, nativeOut;
        final TensorView view;
        final float[] xs, out;

        Case(Arena arena, DType dtype, int rows, int in, long seed) {
            this.dtype = dtype;
            this.rows = rows;
            this.in = in;
            SplittableRandom random = new SplittableRandom(seed);
            view = RandomWeight.of(arena, dtype, rows, in, 0, random);
            weight = view.data();
            xs = new float[in];
            for (int i = 0; i < in; i++) xs[i] = (float) (random.nextDouble() * 2 - 1);
            x = arena.allocate(4L * in, 64).copyFrom(MemorySegment.ofArray(xs));
            nativeOut = arena.allocate(4L * rows, 64);
            out = new float[rows];
        }

        long bytes() { return weight.byteSize(); }

        int kind() {
            return switch (dtype) {
                case F32 -> F32;
                case BF16 -> BF16;
                case F16 -> F16;
            };
        }
    }

    private static void measure(Case c, Native peer, int rounds, int cores, ResultLog log) {
        boolean dot = c.dtype == DType.BF16 && peer.product(DOT_BF16, c, cores) == 0;
        for (int r = 0; r < WARM_ROUNDS; r++) { // compiles gemel's kernels; faults in every page of the weight
            StreamingRead.sum(c.weight);
            MatMul.multiply(c.xs, 1, c.view, null, c.out);
            peer.read(c, cores);
            peer.product(c.kind(), c, cores);
        }
        double[] gemelRead = new double[rounds], gemel = new double[rounds], nativeRead = new double[rounds], nativeProduct = new double[rounds];
        double[] dotProduct = new double[dot ? rounds : 0];
        for (int r = 0; r < rounds; r++) {
            for (int side = 0; side < 2; side++) {
                if ((side == 0) == (r % 2 == 0)) {
                    long t0 = System.nanoTime();
                    StreamingRead.sum(c.weight);
                    gemelRead[r] = rate(c, t0);
                    t0 = System.nanoTime();
                    MatMul.multiply(c.xs, 1, c.view, null, c.out);
                    gemel[r] = rate(c, t0);
                } else {
                    long t0 = System.nanoTime();
                    peer.read(c, cores);
                    nativeRead[r] = rate(c, t0);
                    t0 = System.nanoTime();
                    peer.product(c.kind(), c, cores);
                    nativeProduct[r] = rate(c, t0);
                }
            }
            if (dot) {
                long t0 = System.nanoTime();
                peer.product(DOT_BF16, c, cores);
                dotProduct[r] = rate(c, t0);
            }
        }
        Double dotDifference = dot ? maxDifference(c) : null; // the native output holds the last run's: the dot's
        if (dot) peer.product(c.kind(), c, cores);
        log.record("dtype", c.dtype.name(), "rows", c.rows, "in", c.in, "bytes", c.bytes(), "threads", cores,
                "gemel_read_gb_per_s", gemelRead, "gemel_gb_per_s", gemel, "native_read_gb_per_s", nativeRead,
                "native_gb_per_s", nativeProduct, "native_bf16_dot_gb_per_s", dotProduct,
                "max_difference", maxDifference(c), "bf16_dot_max_difference", dotDifference);
    }

    private static double rate(Case c, long t0) { return c.bytes() / ((System.nanoTime() - t0) / 1e9) / 1e9; }

    /** max |gemel - native| over the outputs, relative to the largest native output. */
    private static double maxDifference(Case c) {
        double diff = 0, scale = 0;
        for (int o = 0; o < c.rows; o++) {
            float n = c.nativeOut.getAtIndex(ValueLayout.JAVA_FLOAT, o);
            diff = Math.max(diff, Math.abs(c.out[o] - n));
            scale = Math.max(scale, Math.abs(n));
        }
        return diff / scale;
    }

    /** The two entry points of the native library. */
    private static final class Native {
        private final MethodHandle product, read;
        private final MemorySegment sum = Arena.global().allocate(ValueLayout.JAVA_DOUBLE); // where the read leaves its sum

        Native(Path library) {
            Linker linker = Linker.nativeLinker();
            SymbolLookup lib = SymbolLookup.libraryLookup(library, Arena.global());
            product = linker.downcallHandle(lib.findOrThrow("gemel_native_product"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            read = linker.downcallHandle(lib.findOrThrow("gemel_native_read"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        }

        /** 0, or -2 when the processor lacks the bf16 dot instruction; any other failure is an error. */
        int product(int kind, Case c, int threads) {
            int status;
            try {
                status = (int) product.invokeExact(kind, c.weight, (long) c.rows, (long) c.in, c.x, c.nativeOut, threads);
            } catch (Throwable t) {
                throw new IllegalStateException("native product failed", t);
            }
            if (status != 0 && !(status == -2 && kind == DOT_BF16))
                throw new IllegalStateException("native product of kind " + kind + " refused " + c.view + " on " + threads + " threads: status " + status);
            return status;
        }

        void read(Case c, int threads) {
            int status;
            try {
                status = (int) read.invokeExact(c.weight, c.bytes() / 4, threads, sum);
            } catch (Throwable t) {
                throw new IllegalStateException("native read failed", t);
            }
            if (status != 0) throw new IllegalStateException("native read refused " + c.view + " on " + threads + " threads: status " + status);
        }
    }
}
