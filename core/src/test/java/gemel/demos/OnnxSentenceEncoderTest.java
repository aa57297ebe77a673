package gemel.demos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.embedding.onnx.PoolingMode;
import gemel.data.MelExample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** all-MiniLM-L6-v2 as shipped in the dependency: sane vectors, cached on disk, used for retrieval. */
class OnnxSentenceEncoderTest {
    private static OnnxSentenceEncoder miniLm;

    @BeforeAll
    static void load() { miniLm = OnnxSentenceEncoder.allMiniLmL6V2(); }

    private static double cosine(float[] a, float[] b) {
        double dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return dot / Math.sqrt(aa * bb);
    }

    @Test
    void vectorsAreUnitLengthAndSimilarTextsAreCloser() {
        List<String> texts = List.of("Barack Obama", "President Obama", "the Eiffel Tower",
                "A man is playing a guitar.", "Someone plays the guitar.", "Stock markets fell sharply today.");
        float[][] v = miniLm.embed(texts);
        assertEquals(texts.size(), v.length);
        for (float[] e : v) {
            assertEquals(384, e.length);
            double norm = 0;
            for (float x : e) norm += x * x;
            assertEquals(1.0, Math.sqrt(norm), 1e-4);
        }
        assertTrue(cosine(v[0], v[1]) > cosine(v[0], v[2]) + 0.2, "Obama closer to Obama than to the Eiffel Tower");
        assertTrue(cosine(v[3], v[4]) > cosine(v[3], v[5]) + 0.3, "guitar sentences closer to each other");
        // batching does not change a text's vector beyond float noise
        assertArrayEquals(v[2], miniLm.embed(List.of("the Eiffel Tower"))[0], 1e-4f);
    }

    /** Counts the texts it embeds, so a cache hit is visible. */
    private static final class Counting implements SentenceEncoder {
        final AtomicInteger embedded = new AtomicInteger();

        @Override
        public String id() { return miniLm.id(); }

        @Override
        public float[][] embed(List<String> texts) {
            embedded.addAndGet(texts.size());
            return miniLm.embed(texts);
        }
    }

    @Test
    void retrievalWithMiniLmPicksTheRelatedMentionAndCachesTheEmbeddings(@TempDir Path dir) throws IOException {
        List<MelExample> training = List.of(
                new MelExample("Obama speaks in Chicago", "Obama", "1.jpg", MelExample.ImageKeyKind.NAME, "Q76", "Barack Obama"),
                new MelExample("The tower at night", "Eiffel Tower", "2.jpg", MelExample.ImageKeyKind.NAME, "Q243", "Eiffel Tower"),
                new MelExample("Gretzky on ice", "Wayne Gretzky", "3.jpg", MelExample.ImageKeyKind.NAME, "Q209518", "Wayne Gretzky"));
        Counting encoder = new Counting();
        EmbeddingCache cache = new EmbeddingCache(dir);
        DemoRetriever r = DemoRetriever.build(training, encoder, cache, null);
        assertEquals(3, encoder.embedded.get());
        assertTrue(Files.isRegularFile(cache.fileFor(encoder, List.of("Obama", "Eiffel Tower", "Wayne Gretzky"))));

        DemoRetriever again = DemoRetriever.build(training, encoder, cache, null);
        assertEquals(3, encoder.embedded.get(), "second build reads the cache");

        List<int[]> demos = again.forQueries(List.of(
                new MelExample("Barack Obama at the summit", "Barack Obama", "4.jpg", MelExample.ImageKeyKind.NAME, "Q76", "Barack Obama"),
                new MelExample("Paris landmark", "the tower in Paris", "5.jpg", MelExample.ImageKeyKind.NAME, "Q243", "Eiffel Tower")), 1, null);
        assertEquals(5, encoder.embedded.get(), "query mentions are embedded, not cached");
        assertArrayEquals(new int[] {0}, demos.get(0));
        assertArrayEquals(new int[] {1}, demos.get(1));
        assertArrayEquals(r.forTrainingItem(2, 2), again.forTrainingItem(2, 2));

        // other texts, other cache file
        DemoRetriever.build(training.subList(0, 2), encoder, cache, null);
        assertEquals(7, encoder.embedded.get());
    }

    @Test
    void aDamagedCacheIsAnErrorNotARecomputation(@TempDir Path dir) throws IOException {
        Counting encoder = new Counting();
        EmbeddingCache cache = new EmbeddingCache(dir);
        List<String> texts = List.of("Obama", "Gretzky");
        float[][] first = cache.embeddings(encoder, texts, null);
        Path file = cache.fileFor(encoder, texts);
        assertArrayEquals(first[1], cache.embeddings(encoder, texts, null)[1]);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        var e = assertThrows(IOException.class, () -> cache.embeddings(encoder, texts, null));
        assertTrue(e.getMessage().contains("delete it to recompute"), e.getMessage());
    }

    @Test
    void anEncoderFolderWithMeanPoolingMatchesTheBuiltInModel(@TempDir Path dir) throws IOException {
        // the same model as files on disk, taken out of the dependency that ships it
        for (String[] copy : new String[][] {{"all-minilm-l6-v2.onnx", "model.onnx"}, {"all-minilm-l6-v2-tokenizer.json", "tokenizer.json"}})
            try (var in = OnnxSentenceEncoderTest.class.getClassLoader().getResourceAsStream(copy[0])) {
                Files.copy(java.util.Objects.requireNonNull(in, copy[0]), dir.resolve(copy[1]));
            }
        List<String> texts = List.of("Wayne Gretzky", "the Girl from U.N.C.L.E.");
        float[][] builtIn = miniLm.embed(texts);
        OnnxSentenceEncoder mean = OnnxSentenceEncoder.fromFolder(dir, PoolingMode.MEAN);
        float[][] fromFolder = mean.embed(texts);
        for (int i = 0; i < texts.size(); i++) assertArrayEquals(builtIn[i], fromFolder[i], 1e-5f);
        float[] cls = OnnxSentenceEncoder.fromFolder(dir, PoolingMode.CLS).embed(texts.subList(0, 1))[0];
        assertTrue(cosine(cls, builtIn[0]) < 0.999, "CLS pooling is another vector");
        assertTrue(mean.id().startsWith("onnx-") && mean.id().contains("-mean-"), mean.id());
    }

    @Test
    void anEncoderFolderMustHoldModelAndTokenizer(@TempDir Path dir) {
        var e = assertThrows(IllegalArgumentException.class, () -> OnnxSentenceEncoder.fromFolder(dir, PoolingMode.CLS));
        assertTrue(e.getMessage().contains("lacks model.onnx"), e.getMessage());
    }
}
