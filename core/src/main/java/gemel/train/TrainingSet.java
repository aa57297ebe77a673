package gemel.train;

import gemel.link.Prompt;

/** The training examples as prompts with labels (built on demand: prompts with demonstrations are long). */
public interface TrainingSet {

    int size();

    /** Training prompt {@code index} (0-based): image slots, text ids and labels on the target. */
    Prompt example(int index);
}
