package gemel.demos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.data.ConvertedData;
import gemel.data.MelExample;
import gemel.data.WikiMelConverter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** MiniLM retrieval on real WikiMEL mentions (a slice, to keep the test short). */
class WikiMelRetrievalTest {
    private static final Path WIKIMEL = Path.of(System.getProperty("gemel.shared", "../shared"), "data", "wikimel");

    @Test
    void aDevMentionSeenInTrainingGetsThatMentionRightBeforeTheQuery(@TempDir Path cache) throws IOException {
        ConvertedData data = WikiMelConverter.convert(WIKIMEL.resolve("Wikidata-MEL.json"), WIKIMEL.resolve("splits.json"), null, null);
        List<MelExample> training = data.splits().get("train").subList(0, 300);
        Set<String> trainingMentions = new HashSet<>();
        for (MelExample e : training) trainingMentions.add(e.mention());
        List<MelExample> queries = data.splits().get("dev").stream()
                .filter(e -> trainingMentions.contains(e.mention())).limit(10).toList();
        assertTrue(queries.size() >= 5, "the slice shares mentions with dev: " + queries.size());

        DemoRetriever retriever = DemoRetriever.build(training, OnnxSentenceEncoder.allMiniLmL6V2(), new EmbeddingCache(cache), null);
        List<int[]> demos = retriever.forQueries(queries, 16, null);
        for (int q = 0; q < queries.size(); q++) {
            int[] d = demos.get(q);
            assertEquals(16, d.length);
            assertEquals(queries.get(q).mention(), training.get(d[15]).mention(), "query " + queries.get(q));
        }
        // a training item never sees itself, and still gets 16 demonstrations
        for (int i = 0; i < 20; i++) {
            int[] d = retriever.forTrainingItem(i, 16);
            for (int j : d) assertTrue(j != i, "item " + i + " retrieved itself");
        }
    }
}
