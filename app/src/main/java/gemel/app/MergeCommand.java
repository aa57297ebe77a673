package gemel.app;

import gemel.batch.RunSummary;
import gemel.batch.ShardMerge;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gemel merge}: the shards of one batch job, run apart, joined. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Join the outputs of 'gemel eval --shard I/N' or 'gemel link --input ... --shard I/N' runs (each --out file with its "
                + ".summary.json beside it) into the output and summary one run over all records writes, and print an evaluation's "
                + "accuracy. Every shard must be given, once, and all must come from the same command, settings and data.")
final class MergeCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "SHARD_OUT", description = "the shards' --out files, in any order")
    List<Path> shards;

    @Option(names = "--out", required = true, description = "JSON lines to write (and OUT.summary.json beside it)")
    Path out;

    @Override
    public Integer call() {
        return CommandErrors.guarded("merge", () -> {
            RunSummary summary = ShardMerge.merge(shards, out);
            if (summary.correct() != null)
                System.out.printf(Locale.ROOT, "accuracy: %.2f%% (%,d / %,d)%n", 100 * summary.accuracy(), summary.correct(), summary.results());
            System.out.printf(Locale.ROOT, "merged %,d results of %d shards%n", summary.results(), shards.size());
            System.out.println("wrote " + out + " and " + RunSummary.fileOf(out).getFileName());
        });
    }
}
