package gemel.train;

import gemel.engine.io.SafetensorsFile;
import gemel.engine.io.SafetensorsWriter;
import gemel.engine.io.TensorView;
import gemel.engine.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Everything a stopped training run needs to continue exactly, taken at an optimizer-step boundary
 * (no gradient is half accumulated): the mapper, the best mapper so far, both AdamW moments, the
 * counters, and where in which epoch's shuffled order the next example is (the order itself is a
 * function of the seed and the epoch, see {@link EpochOrder}). Stored as one safetensors file,
 * written atomically.
 *
 * @param weight   [rows, dimClip] the mapper's weight, flattened
 * @param bias     [rows]
 */
public record TrainingCheckpoint(long[] weightShape, float[] weight, float[] bias, float[] bestWeight, float[] bestBias,
                                 AdamW.State adam, long optimizerStep, int epoch, int position, long seed,
                                 double bestAccuracy, long bestStep) {

    public void save(Path file) {
        long[] biasShape = {bias.length};
        SafetensorsWriter w = new SafetensorsWriter()
                .metadata("format", "gemel-training-checkpoint")
                .metadata("optimizer_step", Long.toString(optimizerStep))
                .metadata("adam_step", Long.toString(adam.step()))
                .metadata("epoch", Integer.toString(epoch))
                .metadata("position", Integer.toString(position))
                .metadata("seed", Long.toString(seed))
                .metadata("best_accuracy", Double.toString(bestAccuracy))
                .metadata("best_step", Long.toString(bestStep))
                .add("mapper.weight", DType.F32, weightShape, weight)
                .add("mapper.bias", DType.F32, biasShape, bias)
                .add("best.weight", DType.F32, weightShape, bestWeight)
                .add("best.bias", DType.F32, biasShape, bestBias)
                .add("adam.m.weight", DType.F32, weightShape, adam.firstMoments()[0])
                .add("adam.m.bias", DType.F32, biasShape, adam.firstMoments()[1])
                .add("adam.v.weight", DType.F32, weightShape, adam.secondMoments()[0])
                .add("adam.v.bias", DType.F32, biasShape, adam.secondMoments()[1]);
        w.write(file);
    }

    public static TrainingCheckpoint load(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no training checkpoint at " + file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            if (!"gemel-training-checkpoint".equals(meta.get("format")))
                throw new IllegalArgumentException(file + ": not a gemel training checkpoint (format " + meta.get("format") + ")");
            TensorView w = f.tensor("mapper.weight");
            AdamW.State adam = new AdamW.State(number(file, meta, "adam_step"),
                    new float[][] {f.tensor("adam.m.weight").toFloats(), f.tensor("adam.m.bias").toFloats()},
                    new float[][] {f.tensor("adam.v.weight").toFloats(), f.tensor("adam.v.bias").toFloats()});
            return new TrainingCheckpoint(w.shape().clone(), w.toFloats(), f.tensor("mapper.bias").toFloats(),
                    f.tensor("best.weight").toFloats(), f.tensor("best.bias").toFloats(), adam,
                    number(file, meta, "optimizer_step"), (int) number(file, meta, "epoch"), (int) number(file, meta, "position"),
                    number(file, meta, "seed"), Double.parseDouble(required(file, meta, "best_accuracy")), number(file, meta, "best_step"));
        }
    }

    private static long number(Path file, Map<String, String> meta, String key) {
        try {
            return Long.parseLong(required(file, meta, key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": metadata " + key + " is not a number: " + meta.get(key));
        }
    }

    private static String required(Path file, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new IllegalArgumentException(file + ": training checkpoint lacks metadata " + key);
        return v;
    }
}
