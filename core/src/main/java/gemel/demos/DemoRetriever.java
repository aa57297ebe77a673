package gemel.demos;

import gemel.data.MelExample;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Picks in-context demonstrations from the training set as the reference does: the retrieval key is the
 * mention string alone, similarity is the cosine between sentence embeddings, the {@code n} most similar
 * training items are returned ordered least similar first and most similar last (right before the query).
 * For a training item as query, training items whose mention and text both equal the query's are skipped.
 *
 * <p>Ties: among equal similarities the lower training index counts as more similar, so it is chosen
 * first and placed later in the prompt. (The reference's unstable {@code np.argsort} leaves ties in an
 * unspecified order; this rule makes the result reproducible.)
 *
 * <p>Results are indices into the training list given at construction (the kept records of the training
 * file). Immutable and safe to share between threads.
 */
public final class DemoRetriever {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private final List<MelExample> training;
    private final float[][] unit;          // [training.size()][dim], L2-normalised mention embeddings
    private final SentenceEncoder encoder;

    /**
     * {@code embeddings[i]} is the (not necessarily normalised) embedding of {@code training.get(i).mention()};
     * {@code encoder} embeds query mentions in {@link #forQueries} and may be null when queries come as embeddings.
     */
    public DemoRetriever(List<MelExample> training, float[][] embeddings, SentenceEncoder encoder) {
        if (embeddings.length != training.size())
            throw new IllegalArgumentException(embeddings.length + " embeddings for " + training.size() + " training records");
        this.training = List.copyOf(training);
        this.unit = new float[embeddings.length][];
        for (int i = 0; i < embeddings.length; i++) {
            if (i > 0 && embeddings[i].length != embeddings[0].length)
                throw new IllegalArgumentException("training embedding " + i + " has " + embeddings[i].length
                        + " values, embedding 0 has " + embeddings[0].length);
            unit[i] = normalized(embeddings[i], "training record " + i + " ('" + training.get(i).mention() + "')");
        }
        this.encoder = encoder;
    }

    /** Embeds the training mentions (or reuses the cached embeddings) and builds the retriever. */
    public static DemoRetriever build(List<MelExample> training, SentenceEncoder encoder, EmbeddingCache cache,
                                      PrintStream progress) throws IOException {
        List<String> mentions = training.stream().map(MelExample::mention).toList();
        return new DemoRetriever(training, cache.embeddings(encoder, mentions, progress), encoder);
    }

    public int trainingSize() { return training.size(); }

    /** Demonstrations for training item {@code index}, skipping items with its mention and text. */
    public int[] forTrainingItem(int index, int n) {
        MelExample self = training.get(index);
        return select(unit[index], n, self);
    }

    /** Demonstrations for every training item, in order (parallel, with progress). */
    public List<int[]> forTrainingSet(int n, PrintStream progress) {
        ProgressMeter meter = new ProgressMeter(progress, "retrieving demonstrations", training.size());
        return IntStream.range(0, training.size()).parallel().mapToObj(i -> {
            int[] demos = forTrainingItem(i, n);
            meter.advance(1);
            return demos;
        }).toList();
    }

    /** Demonstrations for dev/test queries (no exclusion), embedding their mentions. */
    public List<int[]> forQueries(List<MelExample> queries, int n, PrintStream progress) {
        if (encoder == null) throw new IllegalStateException("this retriever has no sentence encoder to embed queries with");
        List<String> mentions = queries.stream().map(MelExample::mention).toList();
        float[][] embedded = EmbeddingCache.embed(encoder, mentions, progress);
        return IntStream.range(0, embedded.length).parallel().mapToObj(i -> forEmbedding(embedded[i], n)).toList();
    }

    /** Demonstrations for a query given by its mention embedding (no exclusion). */
    public int[] forEmbedding(float[] queryEmbedding, int n) {
        return select(normalized(queryEmbedding, "query"), n, null);
    }

    /**
     * The n best training indices for a unit query, least similar first. {@code exclude}, when not null,
     * removes the training items with its mention and text.
     */
    private int[] select(float[] query, int n, MelExample exclude) {
        if (n < 0) throw new IllegalArgumentException("number of demonstrations must be >= 0, got " + n);
        if (n == 0) return new int[0];
        if (unit.length > 0 && query.length != unit[0].length)
            throw new IllegalArgumentException("query embedding has " + query.length + " values, training has " + unit[0].length);
        // the n best so far, sorted from worst (slot 0) to best; training indices only grow, so a later
        // candidate with an equal score never displaces an earlier one: ties go to the lower index
        float[] bestScore = new float[n];
        int[] bestIndex = new int[n];
        int filled = 0;
        for (int i = 0; i < unit.length; i++) {
            if (exclude != null && training.get(i).mention().equals(exclude.mention())
                    && training.get(i).text().equals(exclude.text())) continue;
            float score = dot(query, unit[i]);
            if (filled < n) {
                insert(bestScore, bestIndex, filled++, score, i);
            } else if (score > bestScore[0]) {
                // drop the worst, then place the candidate among the n - 1 left
                System.arraycopy(bestScore, 1, bestScore, 0, n - 1);
                System.arraycopy(bestIndex, 1, bestIndex, 0, n - 1);
                insert(bestScore, bestIndex, n - 1, score, i);
            }
        }
        if (filled < n)
            throw new IllegalArgumentException("asked for " + n + " demonstrations but only " + filled
                    + " training records are eligible");
        return bestIndex;   // worst first = least similar first
    }

    /**
     * Inserts (score, index) into the first {@code size} slots, sorted worst to best, below every slot with
     * a higher or equal score: equal scores there came from lower indices, which rank higher.
     */
    private static void insert(float[] scores, int[] indices, int size, float score, int index) {
        int at = size;
        while (at > 0 && scores[at - 1] >= score) at--;
        System.arraycopy(scores, at, scores, at + 1, size - at);
        System.arraycopy(indices, at, indices, at + 1, size - at);
        scores[at] = score;
        indices[at] = index;
    }

    private static float[] normalized(float[] v, String what) {
        double sum = 0;
        for (float x : v) sum += (double) x * x;
        if (!(sum > 0) || Double.isInfinite(sum))
            throw new IllegalArgumentException("embedding of " + what + " has no direction (norm " + Math.sqrt(sum) + ")");
        float inv = (float) (1 / Math.sqrt(sum));
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i] * inv;
        return out;
    }

    /** Dot product of two equal-length vectors (SIMD lanes, then the tail). */
    private static float dot(float[] a, float[] b) {
        FloatVector acc = FloatVector.zero(SPECIES);
        int i = 0;
        for (int upper = SPECIES.loopBound(a.length); i < upper; i += SPECIES.length())
            acc = FloatVector.fromArray(SPECIES, a, i).fma(FloatVector.fromArray(SPECIES, b, i), acc);
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < a.length; i++) sum += a[i] * b[i];
        return sum;
    }
}
