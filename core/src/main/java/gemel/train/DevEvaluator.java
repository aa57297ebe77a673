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
import gemel.link.SearchPool;

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
    private final SearchPool searches; // null: this process alone, its queries on all cores

    public DevEvaluator(CausalLM model, Tokenizer tokenizer, EntityTree tree, KnowledgeBase kb, DecodingOptions decoding, LinkingData data) {
        this(model, tokenizer, tree, kb, decoding, data, null);
    }

    private DevEvaluator(CausalLM model, Tokenizer tokenizer, EntityTree tree, KnowledgeBase kb, DecodingOptions decoding, LinkingData data,
                         SearchPool searches) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.tree = tree;
        this.kb = kb;
        this.decoding = decoding;
        this.data = data;
        this.searches = searches;
    }

    /**
     * This evaluator with the beam searches of its queries run on {@code searches} (workers holding the same model and
     * knowledge base), as many queries at once as it holds; the accuracy is the same.
     */
    public DevEvaluator searchingOn(SearchPool searches) { return new DevEvaluator(model, tokenizer, tree, kb, decoding, data, searches); }

    /** Links every query with {@code mapper}; without {@code images} every image feature (query and demonstrations) is zero. */
    public Evaluation evaluate(LinkingData.Queries queries, FeatureMapper mapper, boolean images) {
        if (queries.examples().isEmpty()) throw new IllegalArgumentException("nothing to evaluate: no queries");
        Linker linker = Linker.forKnowledgeBase(model, tokenizer, mapper, tree, kb, new LinkerSettings(decoding, Double.NEGATIVE_INFINITY, !images));
        if (searches != null) linker = linker.searchingWith(searches);
        return Evaluation.run(linker, queries.examples(), queries.features(), queries.demos(), data.pool(),
                searches != null ? searches.size() : Runtime.getRuntime().availableProcessors(), null);
    }
}
