package gemel.link;

import gemel.engine.generate.BeamSearch;
import gemel.engine.generate.Hypothesis;
import gemel.engine.model.CausalLM;
import gemel.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * GEMEL's inference: builds the prompt (demonstrations, then the query with its image tokens), runs
 * beam search from the start token constrained by the entity tree, and maps each generated name to
 * the knowledge-base ids that carry it. Thread-safe when the model is.
 */
public final class Linker {
    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final FeatureMapper mapper;
    private final EntityTree tree;
    private final Map<String, List<String>> idsByName;
    private final DecodingOptions options;
    private final PromptBuilder prompts;
    private final BeamSearch search;

    public Linker(CausalLM model, Tokenizer tokenizer, FeatureMapper mapper, EntityTree tree, Map<String, List<String>> idsByName,
                  DecodingOptions options) {
        mapper.requireFits(model.shape(), "given to the linker");
        if (tree.startToken() != model.shape().bosTokenId())
            throw new IllegalArgumentException("the entity tree starts at token " + tree.startToken() + " but " + model.shape().architecture()
                    + " generates from its BOS token " + model.shape().bosTokenId() + ": the tree was built for another tokenizer");
        this.model = model;
        this.tokenizer = tokenizer;
        this.mapper = mapper;
        this.tree = tree;
        this.idsByName = Map.copyOf(idsByName);
        this.options = options;
        this.prompts = new PromptBuilder(tokenizer, mapper.tokens());
        this.search = new BeamSearch(options.numBeams(), options.maxNewTokens(), options.lengthPenalty());
    }

    /** The best {@code options.keep()} answers for a mention in {@code text} with its image feature, best first. */
    public List<LinkedEntity> link(List<Demonstration> demonstrations, String text, String mention, float[] image) {
        Prompt prompt = prompts.build(demonstrations, text, mention, image);
        float[] embeddings = prompt.embeddings(model, mapper);
        List<Hypothesis> found = search.run(model, embeddings, prompt.length(), model.shape().bosTokenId(), model.shape().eosTokenId(),
                options.constrained() ? tree::allowedNext : null, options.keep());
        List<LinkedEntity> out = new ArrayList<>(found.size());
        for (Hypothesis h : found) {
            String name = stripSpaces(tokenizer.decode(h.tokens(), true));
            out.add(new LinkedEntity(name, idsByName.getOrDefault(name, List.of()), h.score(), h.ended()));
        }
        return out;
    }

    /** Python's {@code str.strip(" ")}: only the space character, not other whitespace. */
    static String stripSpaces(String s) {
        int from = 0, to = s.length();
        while (from < to && s.charAt(from) == ' ') from++;
        while (to > from && s.charAt(to - 1) == ' ') to--;
        return s.substring(from, to);
    }
}
