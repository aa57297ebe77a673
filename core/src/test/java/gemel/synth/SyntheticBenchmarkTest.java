package gemel.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.data.KnowledgeBase;
import gemel.data.MelExample;
import gemel.data.MelJsonlReader;
import gemel.features.ImageFeatures;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticBenchmarkTest {
    private final SyntheticBenchmark bench = SyntheticBenchmark.generate(SyntheticBenchmark.Settings.demo());

    @Test
    void theTextCannotTellLookAlikesApart() {
        // every mention word belongs to 3 entities, and each of them appears with the same sentences
        Map<String, Set<String>> entitiesByMention = new HashMap<>();
        Map<String, Set<String>> entitiesByText = new HashMap<>();
        for (MelExample e : bench.train()) {
            entitiesByMention.computeIfAbsent(e.mention(), k -> new HashSet<>()).add(e.golden());
            entitiesByText.computeIfAbsent(e.text(), k -> new HashSet<>()).add(e.golden());
            assertTrue(e.text().contains(e.mention()));
        }
        assertEquals(4, entitiesByMention.size());
        entitiesByMention.values().forEach(s -> assertEquals(3, s.size()));
        long ambiguousTexts = entitiesByText.values().stream().filter(s -> s.size() > 1).count();
        assertTrue(ambiguousTexts >= entitiesByText.size() / 2, "most sentences occur with several entities: " + ambiguousTexts);
    }

    @Test
    void theImageDecides() {
        // nearest mean training image (brute force) names the right entity for every test mention
        Map<String, float[]> sums = new HashMap<>();
        for (MelExample e : bench.train()) {
            float[] f = bench.features().get(e.imageKey()), s = sums.computeIfAbsent(e.golden(), k -> new float[f.length]);
            for (int i = 0; i < f.length; i++) s[i] += f[i];
        }
        for (MelExample e : bench.test()) {
            float[] f = bench.features().get(e.imageKey());
            String best = null;
            double bestDistance = Double.MAX_VALUE;
            for (Map.Entry<String, float[]> c : sums.entrySet()) {
                double d = 0;
                for (int i = 0; i < f.length; i++) d += Math.pow(f[i] - c.getValue()[i] / 12, 2);
                if (d < bestDistance) { bestDistance = d; best = c.getKey(); }
            }
            assertEquals(e.golden(), best, e.imageKey());
        }
    }

    @Test
    void isDeterministicAndWritesFilesTheReadersAccept(@TempDir Path dir) throws Exception {
        SyntheticBenchmark again = SyntheticBenchmark.generate(SyntheticBenchmark.Settings.demo());
        assertEquals(bench.train(), again.train());
        assertArrayEquals(bench.features().get("test_00003.jpg"), again.features().get("test_00003.jpg"));

        SyntheticBenchmark.BenchmarkFiles f = bench.write(dir);
        List<MelExample> train = MelJsonlReader.strict().read(f.train()).examples();
        assertEquals(bench.train(), train);
        KnowledgeBase kb = KnowledgeBase.read(f.kb());
        assertEquals(12, kb.size());
        assertEquals("Ada Marlow", kb.byId("E001").orElseThrow().name());
        try (ImageFeatures features = ImageFeatures.open(f.features())) {
            assertEquals(32, features.dim());
            assertArrayEquals(bench.features().get(train.get(5).imageKey()), features.find(train.get(5).imageKey()));
        }
    }
}
