package gemel.engine.generate;

/**
 * One finished beam: {@code tokens} are the generated ids after the start token, without the end
 * token; {@code ended} is false when the beam was cut by the token limit instead. {@code score} is
 * Hugging Face's: sum of log-probabilities (the end token's included) divided by
 * {@code length ^ lengthPenalty}, where length counts the start token and the tokens before the end.
 */
public record Hypothesis(int[] tokens, double score, boolean ended) {
}
