package gemel.demos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.data.MelExample;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Retrieval against a brute force written differently: plain double loops over raw embeddings and a full sort. */
class DemoRetrieverTest {
    private static final int DIM = 19;   // not a multiple of any SIMD width, so the tail loop runs too

    private static MelExample example(String text, String mention) {
        return new MelExample(text, mention, "img.jpg", MelExample.ImageKeyKind.NAME, "Q" + mention.hashCode(), mention);
    }

    /** Cosine of raw vectors in double precision. */
    private static double cosine(float[] a, float[] b) {
        double dot = 0, aa = 0, bb = 0;
        for (int k = 0; k < a.length; k++) {
            dot += (double) a[k] * b[k];
            aa += (double) a[k] * a[k];
            bb += (double) b[k] * b[k];
        }
        return dot / Math.sqrt(aa * bb);
    }

    /**
     * The retriever scores in float, the brute force in double: scores closer than float rounding may
     * swap. So position by position the chosen items must have the brute-force item's score (within
     * 1e-5), be distinct, and all be eligible.
     */
    private static void assertSameRanking(float[][] train, List<MelExample> examples, float[] query, int n,
                                          MelExample exclude, int[] got, String what) {
        int[] expected = bruteForce(train, examples, query, n, exclude);
        assertEquals(expected.length, got.length, what);
        assertEquals(n, java.util.Arrays.stream(got).distinct().count(), what + ": distinct");
        for (int k = 0; k < n; k++) {
            assertEquals(cosine(query, train[expected[k]]), cosine(query, train[got[k]]), 1e-5, what + " position " + k);
            MelExample e = examples.get(got[k]);
            if (exclude != null)
                assertTrue(!(e.mention().equals(exclude.mention()) && e.text().equals(exclude.text())),
                        what + ": got its own twin " + got[k]);
        }
    }

    /** Cosine of raw vectors, then sort by similarity descending (lower index first on ties), keep n, reverse. */
    private static int[] bruteForce(float[][] train, List<MelExample> examples, float[] query, int n, MelExample exclude) {
        List<double[]> scored = new ArrayList<>();
        for (int i = 0; i < train.length; i++) {
            if (exclude != null && examples.get(i).mention().equals(exclude.mention())
                    && examples.get(i).text().equals(exclude.text())) continue;
            scored.add(new double[] {cosine(query, train[i]), i});
        }
        scored.sort(Comparator.<double[]>comparingDouble(s -> -s[0]).thenComparingDouble(s -> s[1]));
        int[] out = new int[n];
        for (int k = 0; k < n; k++) out[n - 1 - k] = (int) scored.get(k)[1];
        return out;
    }

    private static float[] randomVector(Random rnd) {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) v[i] = (float) rnd.nextGaussian() * (1 + i % 3);
        return v;
    }

    @Test
    void queriesGetTheBruteForceTopNLeastSimilarFirst() {
        Random rnd = new Random(42);
        int size = 300;
        List<MelExample> training = new ArrayList<>();
        float[][] emb = new float[size][];
        for (int i = 0; i < size; i++) {
            training.add(example("text " + i, "mention " + i));
            emb[i] = randomVector(rnd);
        }
        DemoRetriever retriever = new DemoRetriever(training, emb, null);
        for (int q = 0; q < 50; q++) {
            float[] query = randomVector(rnd);
            for (int n : new int[] {0, 1, 5, 16, size}) {
                assertSameRanking(emb, training, query, n, null, retriever.forEmbedding(query, n), "query " + q + " n " + n);
            }
        }
        // a query equal to a training vector has that item last (most similar, right before the query)
        int[] demos = retriever.forEmbedding(emb[123].clone(), 16);
        assertEquals(123, demos[15]);
    }

    @Test
    void trainingItemsSkipItemsWithTheSameMentionAndText() {
        Random rnd = new Random(1);
        List<MelExample> training = new ArrayList<>();
        List<float[]> vectors = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            // groups of three share the mention; pairs inside them also share the text
            training.add(example("caption " + (i / 2), "name " + (i / 3)));
            vectors.add(randomVector(rnd));
        }
        float[][] emb = vectors.toArray(new float[0][]);
        DemoRetriever retriever = new DemoRetriever(training, emb, null);
        for (int i = 0; i < training.size(); i++) {
            assertSameRanking(emb, training, emb[i], 16, training.get(i), retriever.forTrainingItem(i, 16), "item " + i);
        }
        // item 0 ("caption 0", "name 0") and item 1 ("caption 0", "name 0") exclude each other; item 2 differs in text
        assertTrue(java.util.Arrays.stream(retriever.forTrainingItem(0, 118)).noneMatch(d -> d == 0 || d == 1));
        assertThrows(IllegalArgumentException.class, () -> retriever.forTrainingItem(0, 119));
        assertArrayEquals(retriever.forTrainingItem(7, 4), retriever.forTrainingSet(4, null).get(7));
    }

    @Test
    void tiesGoToTheLowerIndexWhichSitsCloserToTheQuery() {
        float[] a = {1, 0, 0};
        float[] b = {0, 1, 0};
        // indices 1, 3, 4 are the same direction as the query (score 1); 0 and 2 are orthogonal (score 0)
        float[][] emb = {b, a, b, {2, 0, 0}, a};
        List<MelExample> training = new ArrayList<>();
        for (int i = 0; i < emb.length; i++) training.add(example("t" + i, "m" + i));
        DemoRetriever retriever = new DemoRetriever(training, emb, null);
        assertArrayEquals(new int[] {4, 3, 1}, retriever.forEmbedding(new float[] {5, 0, 0}, 3));
        assertArrayEquals(new int[] {3, 1}, retriever.forEmbedding(new float[] {5, 0, 0}, 2));
        assertArrayEquals(new int[] {0, 4, 3, 1}, retriever.forEmbedding(new float[] {5, 0, 0}, 4));
    }

    @Test
    void badInputIsRefused() {
        List<MelExample> training = List.of(example("t", "m"), example("u", "n"));
        assertThrows(IllegalArgumentException.class, () -> new DemoRetriever(training, new float[][] {{1, 0}}, null));
        var e = assertThrows(IllegalArgumentException.class, () -> new DemoRetriever(training, new float[][] {{1, 0}, {0, 0}}, null));
        assertTrue(e.getMessage().contains("training record 1 ('n')"), e.getMessage());
        DemoRetriever r = new DemoRetriever(training, new float[][] {{1, 0}, {0, 1}}, null);
        assertThrows(IllegalArgumentException.class, () -> r.forEmbedding(new float[] {1, 0}, 3));
        assertThrows(IllegalArgumentException.class, () -> r.forEmbedding(new float[] {1, 0, 0}, 1));
        assertThrows(IllegalArgumentException.class, () -> r.forEmbedding(new float[] {1, 0}, -1));
    }
}
