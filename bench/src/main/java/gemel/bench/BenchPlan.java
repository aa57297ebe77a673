package gemel.bench;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What to time, as {@code tools/bench/plan.py} wrote it to {@code plan.json}; the PyTorch peer reads
 * the same file, so both sides time the same models, prompts and shapes.
 */
public record BenchPlan(
        String set,
        int[] prefillTokens,      // prompt lengths timed as one prefill each
        int prefillRepeats,       // the best of at least this many prefills is reported,
        double prefillSeconds,    // and of as many as run in this many seconds
        int decodeAfter,          // decode steps follow the prefill of this many tokens
        int decodeSteps,
        int beams,                // then steps of this many rows (beam search) on the cache of the prompt and decode steps
        int beamSteps,
        int[][] sgemmShapes,      // [T, K, N]: x [T, K] times a weight [N, K] as a linear layer does
        long streamBytes,         // size of the buffer read to measure memory bandwidth
        long decodeStreamBytes,   // size of the buffer read just before each decode step
        List<Model> models,
        Clip clip,
        EntityTreePlan entityTree,
        NativeProductPlan nativeProduct) {

    /** One random model at real shapes, a Hugging Face folder; {@code promptIds} covers the longest prompt plus the decode steps (beam steps take their ids from the same list). */
    public record Model(String name, String family, String weights, Path dir, int[] promptIds) {}

    /** A random CLIP vision tower (a CLIPVisionModel folder) and {@code batch} images' pixel values [batch, 3, size, size] in an .npy file. */
    public record Clip(String name, Path dir, Path pixels, int batch) {}

    /** {@code names} synthetic entries over a vocabulary of {@code vocab} ids, all beginning and ending with {@code startToken}. */
    public record EntityTreePlan(int names, int vocab, int startToken, int lookups, long seed) {}

    /** One-token products against the native peer: a weight of about {@code bytes} per dtype and row width, {@code rounds} turns each. */
    public record NativeProductPlan(int[] widths, long bytes, int rounds, long seed) {}

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    public static BenchPlan read(Path file) {
        try {
            return JSON.readValue(file.toFile(), BenchPlan.class);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": not a benchmark plan (write it with tools/bench/plan.py): " + e.getMessage(), e);
        }
    }

    public Model model(String name) {
        return models.stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "no model " + name + " in the plan; it has " + models.stream().map(Model::name).toList()));
    }
}
