package gemel.app;

import gemel.eval.EvalSummary;
import gemel.eval.ShardMerge;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gemel merge}: the shards of one evaluation, run apart, joined. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Join the predictions of 'gemel eval --shard I/N' runs (each --out file with its .summary.json beside it) into the "
                + "predictions and summary one run over all records writes, and print the accuracy. Every shard must be given, once, "
                + "and all must come from the same settings and data.")
final class MergeCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "PREDICTIONS", description = "the shards' --out files, in any order")
    List<Path> shards;

    @Option(names = "--out", required = true, description = "predictions JSON lines to write (and OUT.summary.json beside it)")
    Path out;

    @Override
    public Integer call() {
        return CommandErrors.guarded("merge", () -> {
            EvalSummary summary = ShardMerge.merge(shards, out);
            System.out.printf(Locale.ROOT, "accuracy: %.2f%% (%,d / %,d)%n", 100 * summary.accuracy(), summary.correct(), summary.evaluated());
            System.out.println("wrote " + out + " and " + EvalSummary.fileOf(out).getFileName());
        });
    }
}
