package gemel.engine.kernel;

import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.EnumMap;
import java.util.Map;

/**
 * {@link StreamingProduct} compiled once per dtype. Its kernels widen each weight vector by a switch on the dtype.
 * In a JVM where products of two dtypes both run hot (two models of different dtypes in one process, a kernel
 * benchmark of every dtype), the JIT compiled them for both; the kernels then grew past what it inlines, their
 * vectors were boxed on the heap, and decode products ran several times slower (bf16 weights at 5-6 GB/s after
 * fp32 ones, against 25-37 GB/s alone). So each dtype gets its own copy of the class: a hidden class defined from
 * the same bytes with the dtype as its class data, where the switch folds to one case and the JIT sees one dtype.
 */
final class StreamingKernels {
    private static final MethodType ROWS = MethodType.methodType(void.class, float[].class, int.class, int.class, TensorView.class,
            ZeroExponentHalves.class, float[].class, float[].class, int.class, int.class, int.class);
    private static final Map<DType, MethodHandle> KERNELS = new EnumMap<>(DType.class);

    static {
        for (DType dtype : DType.values()) KERNELS.put(dtype, define(dtype));
    }

    private StreamingKernels() {}

    /** {@link StreamingProduct#multiplyRows} in the copy for w's dtype. */
    static void multiplyRows(float[] x, int tokens, int in, TensorView w, ZeroExponentHalves halves, float[] bias, float[] out, int outDim,
                             int o0, int o1) {
        try {
            KERNELS.get(w.dtype()).invokeExact(x, tokens, in, w, halves, bias, out, outDim, o0, o1);
        } catch (Throwable t) {
            throw rethrown(t);
        }
    }

    private static RuntimeException rethrown(Throwable t) {
        if (t instanceof RuntimeException e) return e;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    private static MethodHandle define(DType dtype) {
        try (InputStream bytes = StreamingKernels.class.getResourceAsStream("StreamingProduct.class")) {
            if (bytes == null) throw new IllegalStateException("StreamingProduct.class is missing beside " + StreamingKernels.class.getName());
            MethodHandles.Lookup copy = MethodHandles.lookup().defineHiddenClassWithClassData(bytes.readAllBytes(), dtype, true);
            return copy.findStatic(copy.lookupClass(), "multiplyRows", ROWS);
        } catch (IOException | ReflectiveOperationException e) {
            throw new IllegalStateException("cannot define the " + dtype + " copy of StreamingProduct", e);
        }
    }
}
