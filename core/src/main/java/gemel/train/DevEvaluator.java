package gemel.train;

import gemel.data.MelExample;
import gemel.engine.model.CausalLM;
import gemel.engine.tokenizer.Tokenizer;
import gemel.link.DecodingOptions;
import gemel.link.EntityTree;
import gemel.link.FeatureMapper;
import gemel.link.LinkedEntity;
import gemel.link.Linker;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Exact-match accuracy of a mapper with the real decoder (the {@link Linker}: prompt with
 * demonstrations, beam search constrained by the entity tree): a query counts as correct when the
 * best generated name equals its target, as the reference compares them.
 */
public final class DevEvaluator {
    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final EntityTree tree;
    private final Map<String, List<String>> idsByName;
    private final DecodingOptions options;
    private final LinkingData data;

    /** What one evaluation found: the accuracy and the best name per query, in order. */
    public record Outcome(double accuracy, List<String> predictions) {
    }

    public DevEvaluator(CausalLM model, Tokenizer tokenizer, EntityTree tree, Map<String, List<String>> idsByName, DecodingOptions options,
                        LinkingData data) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.tree = tree;
        this.idsByName = idsByName;
        this.options = options;
        this.data = data;
    }

    /** Links every query (in parallel) with {@code mapper}; without {@code images} all image features are zero. */
    public Outcome evaluate(LinkingData.Queries queries, FeatureMapper mapper, boolean images) {
        if (queries.examples().isEmpty()) throw new IllegalArgumentException("nothing to evaluate: no queries");
        Linker linker = new Linker(model, tokenizer, mapper, tree, idsByName, options);
        List<String> predictions = IntStream.range(0, queries.examples().size()).parallel().mapToObj(i -> {
            MelExample e = queries.examples().get(i);
            List<LinkedEntity> best = linker.link(data.demonstrations(queries.demos().get(i), images), e.text(), e.mention(),
                    images ? queries.features()[i] : new float[data.dimClip()]);
            return best.isEmpty() ? "" : best.getFirst().name();
        }).toList();
        int correct = 0;
        for (int i = 0; i < predictions.size(); i++) if (predictions.get(i).equals(queries.examples().get(i).target())) correct++;
        return new Outcome((double) correct / predictions.size(), predictions);
    }
}
