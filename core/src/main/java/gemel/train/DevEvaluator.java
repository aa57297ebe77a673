package gemel.train;

import gemel.data.KnowledgeBase;
import gemel.engine.model.CausalLM;
import gemel.engine.tokenizer.Tokenizer;
import gemel.eval.Evaluation;
import gemel.link.DecodingOptions;
import gemel.link.EntityTree;
import gemel.link.FeatureMapper;
import gemel.link.Linker;
import gemel.link.LinkerSettings;

/**
 * Accuracy of a mapper, as it is at the moment, with the real decoder: each query is linked (prompt
 * with its demonstrations, beam search constrained by the entity tree) and scored as {@link Evaluation}
 * scores it. The trainer calls it with the live mapper every few steps.
 */
public final class DevEvaluator {
    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final EntityTree tree;
    private final KnowledgeBase kb;
    private final DecodingOptions decoding;
    private final LinkingData data;

    public DevEvaluator(CausalLM model, Tokenizer tokenizer, EntityTree tree, KnowledgeBase kb, DecodingOptions decoding, LinkingData data) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.tree = tree;
        this.kb = kb;
        this.decoding = decoding;
        this.data = data;
    }

    /** Links every query with {@code mapper}; without {@code images} every image feature (query and demonstrations) is zero. */
    public Evaluation evaluate(LinkingData.Queries queries, FeatureMapper mapper, boolean images) {
        if (queries.examples().isEmpty()) throw new IllegalArgumentException("nothing to evaluate: no queries");
        Linker linker = Linker.forKnowledgeBase(model, tokenizer, mapper, tree, kb, new LinkerSettings(decoding, Double.NEGATIVE_INFINITY, !images));
        return Evaluation.run(linker, queries.examples(), queries.features(), queries.demos(), data.pool(),
                Runtime.getRuntime().availableProcessors(), null);
    }
}
