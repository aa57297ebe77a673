package gemel.synth;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import gemel.train.MetricsLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Learning evidence: on the synthetic benchmark, where only the image tells look-alike entities
 * apart, training the mapper through the frozen random model lifts test accuracy from about chance
 * to at least 90 %, and the image is what carries it.
 */
class SyntheticDemoTest {

    @Test
    void trainingTheMapperMakesTheImageDecide(@TempDir Path dir) throws Exception {
        SyntheticDemo.Report report = SyntheticDemo.run(dir, SyntheticDemo.Settings.standard(), System.out);
        report.rows().forEach(r -> System.out.printf("%-55s %6.1f %%%n", r.setting(), 100 * r.accuracy()));
        double untrained = report.rows().get(0).accuracy(), trained = report.rows().get(1).accuracy();
        double noImage = report.rows().get(3).accuracy(), chance = report.rows().get(5).accuracy();
        assertTrue(untrained < chance + 0.25, "untrained mapper near chance: " + untrained);
        assertTrue(trained >= 0.9, "trained mapper reaches 90 %: " + trained);
        assertTrue(noImage < chance + 0.25, "without the image the trained model is back near chance: " + noImage);
        List<Map<String, Object>> metrics = MetricsLog.read(dir.resolve("run/metrics.jsonl"));
        assertTrue(metrics.stream().anyMatch(m -> "dev".equals(m.get("kind"))), "dev accuracy was logged");
        assertTrue(Files.size(dir.resolve("run/training.png")) > 1000, "plot written");
        assertTrue(Files.exists(dir.resolve("run/mapper.safetensors")), "mapper written");
    }
}
