package gemel.bench;

import gemel.engine.io.NpyArray;
import gemel.engine.io.NpyFile;
import gemel.engine.vision.ClipVisionEncoder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Times the CLIP vision tower on a batch of images' pixel values (as CLIPImageProcessor leaves them)
 * after one untimed image; saves the pooled outputs so the report can compare them with PyTorch's.
 */
final class ClipBench {
    private ClipBench() {}

    static void run(BenchPlan plan, Path outputsDir, ResultLog log) {
        BenchPlan.Clip clip = plan.clip();
        long t0 = System.nanoTime();
        try (ClipVisionEncoder encoder = ClipVisionEncoder.load(clip.dir())) {
            log.record("model", clip.name(), "phase", "load", "seconds", (System.nanoTime() - t0) / 1e9);
            NpyArray array = NpyFile.read(clip.pixels());
            float[] pixels = array.floats(); // [batch, channels, size, size]
            int batch = clip.batch(), perImage = pixels.length / batch;
            if (array.rank() != 4 || array.dim(0) != batch)
                throw new IllegalArgumentException(clip.pixels() + ": expected pixel values of " + batch + " images, got " + array);
            encoder.encode(Arrays.copyOf(pixels, perImage), 1, false);
            t0 = System.nanoTime();
            ClipVisionEncoder.Output out = encoder.encode(pixels, batch, false);
            double seconds = (System.nanoTime() - t0) / 1e9;
            log.record("model", clip.name(), "phase", "encode", "images", batch, "seconds", seconds);
            Path file = outputsDir.resolve(clip.name() + ".gemel.pooled.npy");
            NpyFile.write(file, new long[] {batch, out.pooled().length / batch}, out.pooled());
            log.record("model", clip.name(), "phase", "pooled", "file", file.toString());
        }
    }
}
