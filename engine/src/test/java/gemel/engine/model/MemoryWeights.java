package gemel.engine.model;

import gemel.engine.io.TensorView;
import gemel.engine.io.WeightSource;
import gemel.engine.kernel.TestTensors;
import gemel.engine.tensor.DType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/** Named random tensors held in memory: a model folder without the folder. */
final class MemoryWeights implements WeightSource {
    private final Map<String, TensorView> tensors = new LinkedHashMap<>();
    private final Random random;
    private final DType dtype;
    boolean closed;

    MemoryWeights(long seed, DType dtype) {
        this.random = new Random(seed);
        this.dtype = dtype;
    }

    /** A tensor of N(mean, std^2) entries. */
    MemoryWeights add(String name, double mean, double std, long... shape) {
        int n = 1;
        for (long d : shape) n *= (int) d;
        float[] values = TestTensors.gaussian(random, n, std);
        for (int i = 0; i < n; i++) values[i] += (float) mean;
        tensors.put(name, TestTensors.of(name, dtype, values, shape));
        return this;
    }

    void remove(String name) { tensors.remove(name); }

    void put(String name, TensorView tensor) { tensors.put(name, tensor); }

    @Override
    public Set<String> names() { return tensors.keySet(); }

    @Override
    public TensorView tensor(String name) {
        TensorView t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor " + name + " in memory weights");
        return t;
    }

    @Override
    public void close() { closed = true; }
}
