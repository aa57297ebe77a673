package gemel.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.io.SafetensorsWriter;
import gemel.engine.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingCheckpointTest {

    @Test
    void roundTripKeepsEverything(@TempDir Path dir) throws Exception {
        float[] w = {1, 2, 3, 4, 5, 6}, b = {0.5f, -0.5f}, bw = {6, 5, 4, 3, 2, 1}, bb = {1, 1};
        AdamW.State adam = new AdamW.State(7, new float[][] {{.1f, .2f, .3f, .4f, .5f, .6f}, {.7f, .8f}},
                new float[][] {{1e-3f, 2e-3f, 3e-3f, 4e-3f, 5e-3f, 6e-3f}, {7e-3f, 8e-3f}});
        Path file = dir.resolve("checkpoint.safetensors");
        new TrainingCheckpoint(new long[] {2, 3}, w, b, bw, bb, adam, 7, 1, 3, 42, 0.75, 5).save(file);
        TrainingCheckpoint c = TrainingCheckpoint.load(file);
        assertArrayEquals(w, c.weight());
        assertArrayEquals(b, c.bias());
        assertArrayEquals(bw, c.bestWeight());
        assertArrayEquals(bb, c.bestBias());
        assertArrayEquals(new long[] {2, 3}, c.weightShape());
        assertEquals(7, c.adam().step());
        assertArrayEquals(adam.firstMoments()[1], c.adam().firstMoments()[1]);
        assertArrayEquals(adam.secondMoments()[0], c.adam().secondMoments()[0]);
        assertEquals(7, c.optimizerStep());
        assertEquals(1, c.epoch());
        assertEquals(3, c.position());
        assertEquals(42, c.seed());
        assertEquals(0.75, c.bestAccuracy());
        assertEquals(5, c.bestStep());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void aMapperFileIsNotACheckpoint(@TempDir Path dir) {
        Path file = dir.resolve("mapper.safetensors");
        new SafetensorsWriter().metadata("format", "gemel.feature_mapper").add("weight", DType.F32, new long[] {1}, new float[] {1}).write(file);
        var e = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoint.load(file));
        assertTrue(e.getMessage().contains("not a gemel training checkpoint"), e.getMessage());
    }

    @Test
    void missingCheckpointIsNamed(@TempDir Path dir) {
        var e = assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoint.load(dir.resolve("checkpoint.safetensors")));
        assertTrue(e.getMessage().contains("no training checkpoint at"), e.getMessage());
    }
}
