package gemel.train;

import gemel.data.MelExample;
import gemel.demos.DemoRetriever;
import gemel.demos.EmbeddingCache;
import gemel.demos.SentenceEncoder;
import gemel.eval.DemonstrationPool;
import gemel.features.FeatureLookup;
import gemel.features.ImageFeatures;
import gemel.features.MissingFeaturePolicy;
import gemel.link.Prompt;
import gemel.link.PromptBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The training side of GEMEL's data: the training mentions with their image features and a
 * demonstration retriever over them, turned into prompts for training (each item with its own
 * demonstrations, itself excluded) and queries (dev, test) with their demonstrations.
 */
public final class LinkingData {
    private final List<MelExample> train;
    private final float[][] trainFeatures; // [train.size()][dimClip]
    private final DemoRetriever retriever;
    private final DemonstrationPool pool;
    private final ImageFeatures features;
    private final MissingFeaturePolicy missing;
    private final PrintStream progress;

    /** Labelled queries with their image features [n][dimClip] and demonstration indices into {@link #pool()}. */
    public record Queries(List<MelExample> examples, float[][] features, List<int[]> demos) {
    }

    private LinkingData(List<MelExample> train, float[][] trainFeatures, DemoRetriever retriever, ImageFeatures features,
                        MissingFeaturePolicy missing, PrintStream progress) {
        this.train = train;
        this.trainFeatures = trainFeatures;
        this.retriever = retriever;
        this.pool = new DemonstrationPool(train, features, missing == MissingFeaturePolicy.ZERO_VECTOR);
        this.features = features;
        this.missing = missing;
        this.progress = progress;
    }

    /**
     * Looks up the training images ({@code missing} says what to do with absent ones) and embeds the
     * training mentions for retrieval ({@code cache} keeps the embeddings between runs).
     */
    public static LinkingData of(List<MelExample> train, ImageFeatures features, MissingFeaturePolicy missing, SentenceEncoder encoder,
                                 EmbeddingCache cache, PrintStream progress) throws IOException {
        FeatureLookup lookup = FeatureLookup.resolve(features, train, MelExample::imageKey, missing);
        List<MelExample> kept = new ArrayList<>();
        for (int i : lookup.keptIndices()) kept.add(train.get(i));
        if (lookup.missingItems() > 0)
            progress.printf("training: %d of %d mentions have no image feature (%s)%n", lookup.missingItems(), train.size(), missing);
        DemoRetriever retriever = DemoRetriever.build(kept, encoder, cache, progress);
        return new LinkingData(List.copyOf(kept), lookup.vectors(), retriever, features, missing, progress);
    }

    public List<MelExample> train() { return train; }

    public int dimClip() { return features.dim(); }

    /** Training prompts: item i with its {@code demos} retrieved demonstrations and its target. */
    public TrainingSet trainingSet(PromptBuilder builder, int demos) {
        List<int[]> chosen = demos == 0 ? null : retriever.forTrainingSet(demos, progress);
        return new TrainingSet() {
            @Override public int size() { return train.size(); }
            @Override public Prompt example(int index) {
                MelExample e = train.get(index);
                return builder.buildTraining(pool.demonstrations(chosen == null ? new int[0] : chosen.get(index)), e.text(), e.mention(),
                        trainFeatures[index], e.target());
            }
        };
    }

    /** {@code examples} with their image features and {@code demos} demonstrations each (mention similarity, no exclusion). */
    public Queries queries(List<MelExample> examples, int demos) {
        FeatureLookup lookup = FeatureLookup.resolve(features, examples, MelExample::imageKey, missing);
        List<MelExample> kept = new ArrayList<>();
        for (int i : lookup.keptIndices()) kept.add(examples.get(i));
        List<int[]> chosen = demos == 0 ? kept.stream().map(e -> new int[0]).toList() : retriever.forQueries(kept, demos, progress);
        return new Queries(List.copyOf(kept), lookup.vectors(), chosen);
    }

    /** The training records demonstrations are drawn from. */
    public DemonstrationPool pool() { return pool; }
}
