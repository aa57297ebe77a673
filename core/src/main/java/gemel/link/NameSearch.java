package gemel.link;

import gemel.engine.generate.BeamSearch;
import gemel.engine.generate.Hypothesis;
import gemel.engine.model.CausalLM;
import java.io.IOException;
import java.util.List;

/**
 * Where a prompt's beam search runs, from its embeddings: the model of this process over its entity tree
 * ({@link #local}), or a worker on another machine ({@code gemel worker --kb}) holding the same model and tree. The
 * prompt is built, and the names decoded, by the caller.
 */
public interface NameSearch {
    /** The best {@code decoding.keep()} hypotheses for the prompt {@code embeddings} of {@code promptLength} positions. */
    List<Hypothesis> search(float[] embeddings, int promptLength, DecodingOptions decoding) throws IOException;

    /** Names it in logs and errors. */
    String name();

    /** This process's model, constrained (when the options say so) by {@code tree}. */
    static NameSearch local(CausalLM model, EntityTree tree) {
        return new NameSearch() {
            @Override
            public List<Hypothesis> search(float[] embeddings, int promptLength, DecodingOptions d) {
                return new BeamSearch(d.numBeams(), d.maxNewTokens(), d.lengthPenalty()).run(model, embeddings, promptLength,
                        model.shape().bosTokenId(), model.shape().eosTokenId(), d.constrained() ? tree::allowedNext : null, d.keep());
            }

            @Override
            public String name() { return "this machine"; }
        };
    }
}
