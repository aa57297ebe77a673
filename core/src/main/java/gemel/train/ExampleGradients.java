package gemel.train;

import gemel.engine.grad.InputGradients;
import java.io.IOException;

/**
 * Where a training example's loss and its gradient with respect to the input embeddings are computed: the frozen
 * model in this process ({@link #local}), or a worker on another machine ({@code gemel worker}). Only the mapper is
 * trained, so nothing else crosses: the embeddings of the prompt and its labels go out, the loss and the gradient come
 * back.
 */
public interface ExampleGradients {
    /** Loss and d loss / d embeds of one example: {@code embeds} [tokens, width], {@code labels} [tokens]. */
    InputGradients.Result compute(float[] embeds, int tokens, int[] labels) throws IOException;

    /** Names it in logs and errors. */
    String name();

    /** The frozen model of this process. */
    static ExampleGradients local(InputGradients gradients) {
        return new ExampleGradients() {
            @Override
            public InputGradients.Result compute(float[] embeds, int tokens, int[] labels) {
                return gradients.compute(embeds, 1, tokens, null, null, labels);
            }

            @Override
            public String name() { return "this machine"; }
        };
    }
}
