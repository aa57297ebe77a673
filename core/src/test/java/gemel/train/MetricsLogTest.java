package gemel.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {

    @Test
    void resumeDropsEventsAfterTheCheckpointAndAppends(@TempDir Path dir) {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsLog log = MetricsLog.create(file)) {
            for (int s = 1; s <= 5; s++) log.log("train", Map.of("step", s, "loss", 1.0 / s));
            log.log("dev", Map.of("step", 4, "accuracy", 0.5));
        }
        try (MetricsLog log = MetricsLog.resume(file, 3)) {
            log.log("train", Map.of("step", 4, "loss", 0.2));
        }
        List<Map<String, Object>> events = MetricsLog.read(file);
        assertEquals(4, events.size());
        assertEquals("train", events.get(0).get("kind"));
        assertEquals(0.2, ((Number) events.get(3).get("loss")).doubleValue());
    }

    @Test
    void malformedLineIsReportedWithItsNumber(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.jsonl");
        Files.writeString(file, "{\"kind\":\"train\"}\n{oops\n");
        var e = assertThrows(IllegalArgumentException.class, () -> MetricsLog.read(file));
        assertTrue(e.getMessage().contains(":2:"), e.getMessage());
    }

    @Test
    void plotIsAPngWithBothCurves(@TempDir Path dir) throws Exception {
        List<Map<String, Object>> events = List.of(
                Map.of("kind", "train", "step", 1, "loss", 4.0),
                Map.of("kind", "train", "step", 10, "loss", 1.0),
                Map.of("kind", "dev", "step", 10, "accuracy", 0.9));
        Path png = dir.resolve("plot.png");
        TrainingPlot.write(events, "run", png);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(900, image.getWidth());
        int blue = 0, orange = 0;
        for (int y = 0; y < image.getHeight(); y++)
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y) & 0xffffff;
                if (rgb == 0x1e5ac8) blue++;
                if (rgb == 0xc85014) orange++;
            }
        assertTrue(blue > 50 && orange > 20, "curves drawn: blue " + blue + ", orange " + orange);
    }
}
