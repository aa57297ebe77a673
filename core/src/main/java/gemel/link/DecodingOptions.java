package gemel.link;

/**
 * How the linker decodes. {@link #reference()} is the reference's choice (5 beams, 32 new tokens,
 * length penalty 1.0, constrained by the prefix tree, one answer); every other value is a named
 * deviation: {@code constrained = false} reproduces the "without the prefix tree" ablation,
 * {@code keep > 1} returns the runner-up entities too.
 */
public record DecodingOptions(int numBeams, int maxNewTokens, double lengthPenalty, boolean constrained, int keep) {
    public DecodingOptions {
        if (numBeams < 1 || maxNewTokens < 1) throw new IllegalArgumentException("numBeams and maxNewTokens must be >= 1");
        if (keep < 1 || keep > numBeams) throw new IllegalArgumentException("keep must be in 1.." + numBeams + ", got " + keep);
    }

    public static DecodingOptions reference() { return new DecodingOptions(5, 32, 1.0, true, 1); }
}
