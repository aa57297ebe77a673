package gemel.engine.generate;

/**
 * Says which tokens may come next during generation (Hugging Face's {@code prefix_allowed_tokens_fn}).
 * {@code prefix[0 .. length)} is the sequence generated so far, beginning with the start token.
 * The answer may be empty (then every continuation of that beam scores minus infinity); the caller
 * only reads it.
 */
@FunctionalInterface
public interface AllowedTokens {

    int[] after(int[] prefix, int length);
}
