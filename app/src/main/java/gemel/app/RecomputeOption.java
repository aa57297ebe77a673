package gemel.app;

import picocli.CommandLine.Option;

/** Whether a backward through the frozen model recomputes activations: {@code train} and {@code worker} take it alike. */
final class RecomputeOption {
    @Option(names = "--recompute", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Recompute layer activations in the backward instead of keeping them (default: ${DEFAULT-VALUE}).")
    boolean recompute;
}
