package gemel.app;

import gemel.batch.BatchRun;
import gemel.batch.ResultJournal;
import gemel.batch.RunSummary;
import gemel.batch.Shard;
import gemel.data.MelDataset;
import gemel.data.MelExample;
import gemel.demos.DemosFile;
import gemel.demos.ProgressMeter;
import gemel.eval.DemonstrationPool;
import gemel.eval.Evaluation;
import gemel.eval.PredictionLines;
import gemel.features.FeatureLookup;
import gemel.features.ImageFeatures;
import gemel.features.MissingFeaturePolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gemel eval}: exact-match accuracy on a data file, with every prediction written out. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Link every record of a data file and print the exact-match accuracy (NIL records dropped as the reference does, "
                + "or kept with --keep-nil and correct when the answer is NIL); write one JSON line per evaluated record to --out.")
final class EvalCommand implements Callable<Integer> {
    @Mixin
    LinkerOptions options;

    @Option(names = "--data", required = true, description = "JSON lines to evaluate (text, mention, img_url | img_name, golden, target)")
    Path data;

    @Option(names = "--demos-file", description = "demonstrations fixed per record of --data, in order (from 'gemel convert demos' or --save-demos) instead of retrieving them")
    Path demosFile;

    @Option(names = "--save-demos", description = "write the demonstrations used, one line per evaluated record")
    Path saveDemos;

    @Option(names = "--limit", description = "evaluate only the first N records")
    Integer limit;

    @Option(names = "--missing-features", defaultValue = "FAIL",
            description = "records whose image has no feature: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}, as the reference)")
    MissingFeaturePolicy missingFeatures;

    @Option(names = "--out", required = true, description = "predictions JSON lines to write, with a summary (accuracy, settings) beside it as OUT.summary.json; "
            + "until the run ends, its predictions so far are in OUT.partial, from which the same command resumes")
    Path out;

    @Option(names = "--shard", defaultValue = "0/1", paramLabel = "I/N",
            description = "link only shard I of N of the records (record k when k %% N == I), e.g. one shard per machine; 'gemel merge' joins "
                    + "the shards' --out files into what one run writes (default: all records)")
    String shard;

    @Spec
    CommandSpec spec;

    // options that change how a run goes or what else it writes, not its predictions: a run may resume, and shards merge, across them
    static final Set<String> NOT_DECIDING = Set.of("--out", "--parallel", "--save-demos", "--shard");

    @Override
    public Integer call() { return CommandErrors.guarded("eval", this::evaluate); }

    private void evaluate() throws IOException {
        if (options.features == null) throw new IllegalArgumentException("--features is required");
        if (limit != null && limit < 1) throw new IllegalArgumentException("--limit must be >= 1, got " + limit);
        Shard part = Shard.parse(shard);
        MelDataset dataSet = options.records.evaluated(data);
        List<MelExample> records = dataSet.examples();
        if (limit != null && limit < records.size()) records = records.subList(0, limit);
        MelDataset training = options.training("to draw demonstrations from");
        List<int[]> fixed = null;
        if (demosFile != null) {
            fixed = DemosFile.read(demosFile, training.size());
            if (fixed.size() < records.size())
                throw new IllegalArgumentException(demosFile + " has " + fixed.size() + " lines, fewer than the " + records.size()
                        + " records evaluated from " + data);
            // a file with a line per record of a longer --data was made for another data file
            if (fixed.size() > dataSet.size())
                throw new IllegalArgumentException(demosFile + " has " + fixed.size() + " lines but " + data + " has only " + dataSet.size()
                        + " records: it was made for another data file");
        }
        try (ImageFeatures features = ImageFeatures.open(options.features)) {
            FeatureLookup lookup = FeatureLookup.resolve(features, records, MelExample::imageKey, missingFeatures);
            if (lookup.missingItems() > 0)
                System.err.printf(Locale.ROOT, "%,d records without an image feature (%s)%n", lookup.missingItems(), missingFeatures);
            List<MelExample> kept = new ArrayList<>(lookup.keptIndices().length);
            for (int i : lookup.keptIndices()) kept.add(records.get(i));
            BatchRun run = new BatchRun(RunSettings.of(spec, NOT_DECIDING), kept.size(), part);
            try (ResultJournal journal = ResultJournal.beside(out, run, "records", System.err)) {
                // the model, mapper and tree are checked before demonstrations are retrieved (minutes of embedding on real data)
                try (LinkerOptions.Loaded loaded = options.load(System.err)) {
                    evaluate(records, kept, part, lookup, fixed, training, features, loaded, journal);
                }
                RunSummary summary = journal.finish(out);
                System.out.printf(Locale.ROOT, "accuracy: %.2f%% (%,d / %,d)%n", 100 * summary.accuracy(), summary.correct(), summary.results());
                if (!part.equals(Shard.WHOLE))
                    System.out.printf(Locale.ROOT, "that is shard %s of %,d records: 'gemel merge' joins the shards' predictions%n", part, kept.size());
                System.out.println("wrote " + out + " and " + RunSummary.fileOf(out).getFileName());
            }
        }
    }

    /** Links the records of shard {@code part} that {@code journal} does not hold yet, each added to it as it is linked. */
    private void evaluate(List<MelExample> records, List<MelExample> kept, Shard part, FeatureLookup lookup, List<int[]> fixed,
                          MelDataset training, ImageFeatures features, LinkerOptions.Loaded loaded, ResultJournal journal) throws IOException {
        int[] mine = IntStream.range(0, kept.size()).filter(part::holds).toArray();
        int[] todo = Arrays.stream(mine).filter(k -> !journal.has(k)).toArray();
        // demonstrations of every record of the shard when they are saved, else of those still to link
        int[] asked = saveDemos != null ? mine : todo;
        int[][] demos = new int[kept.size()][];
        if (fixed != null) {
            for (int k : asked) demos[k] = fixed.get(lookup.keptIndices()[k]);
        } else if (options.demos == 0) {
            for (int k : asked) demos[k] = new int[0];
        } else if (asked.length > 0) {
            List<MelExample> queries = Arrays.stream(asked).mapToObj(kept::get).toList();
            List<int[]> retrieved = options.retriever(training, options.sentenceEncoder()).forQueries(queries, options.demos, System.err);
            for (int j = 0; j < asked.length; j++) demos[asked[j]] = retrieved.get(j);
        }
        if (saveDemos != null) {
            // one line per record of the evaluated range, as a demos file is read: records left out (or in other shards) get none
            int[][] perRecord = new int[records.size()][0];
            for (int k : mine) perRecord[lookup.keptIndices()[k]] = demos[k];
            DemosFile.write(saveDemos, Arrays.asList(perRecord));
        }
        DemonstrationPool pool = new DemonstrationPool(training.examples(), features, missingFeatures == MissingFeaturePolicy.ZERO_VECTOR);
        Evaluation.run(loaded.linker(), Arrays.stream(todo).mapToObj(kept::get).toList(), todo,
                Arrays.stream(todo).mapToObj(k -> lookup.vectors()[k]).toArray(float[][]::new),
                Arrays.stream(todo).mapToObj(k -> demos[k]).toList(), pool, options.parallel,
                new ProgressMeter(System.err, "linking", todo.length), p -> journal.append(PredictionLines.result(p)));
    }
}
