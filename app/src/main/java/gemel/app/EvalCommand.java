package gemel.app;

import gemel.data.MelDataset;
import gemel.data.MelExample;
import gemel.demos.DemosFile;
import gemel.eval.DemonstrationPool;
import gemel.eval.Evaluation;
import gemel.eval.PredictionsWriter;
import gemel.features.FeatureLookup;
import gemel.features.ImageFeatures;
import gemel.features.MissingFeaturePolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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

    @Option(names = "--out", required = true, description = "predictions JSON lines to write")
    Path out;

    @Override
    public Integer call() { return CommandErrors.guarded("eval", this::evaluate); }

    private void evaluate() throws IOException {
        if (options.features == null) throw new IllegalArgumentException("--features is required");
        if (limit != null && limit < 1) throw new IllegalArgumentException("--limit must be >= 1, got " + limit);
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
            // the model, mapper and tree are checked before demonstrations are retrieved (minutes of embedding on real data)
            try (LinkerOptions.Loaded loaded = options.load(System.err)) {
                evaluate(records, kept, lookup, fixed, training, features, loaded);
            }
        }
    }

    private void evaluate(List<MelExample> records, List<MelExample> kept, FeatureLookup lookup, List<int[]> fixed, MelDataset training,
                      ImageFeatures features, LinkerOptions.Loaded loaded) throws IOException {
        List<int[]> demos;
        if (fixed != null) {
            demos = Arrays.stream(lookup.keptIndices()).mapToObj(fixed::get).toList();
        } else {
            demos = options.demos == 0 ? kept.stream().map(r -> new int[0]).toList()
                    : options.retriever(training, options.sentenceEncoder()).forQueries(kept, options.demos, System.err);
        }
        if (saveDemos != null) {
            // one line per record of the evaluated range, as a demos file is read: records left out get none
            int[][] perRecord = new int[records.size()][0];
            for (int k = 0; k < demos.size(); k++) perRecord[lookup.keptIndices()[k]] = demos.get(k);
            DemosFile.write(saveDemos, Arrays.asList(perRecord));
        }
        DemonstrationPool pool = new DemonstrationPool(training.examples(), features, missingFeatures == MissingFeaturePolicy.ZERO_VECTOR);
        Evaluation result = Evaluation.run(loaded.linker(), kept, lookup.vectors(), demos, pool, options.parallel, System.err);
        PredictionsWriter.write(out, result.predictions());
        System.out.printf(Locale.ROOT, "accuracy: %.2f%% (%,d / %,d)%n", 100 * result.accuracy(), result.correct(), result.evaluated());
        System.out.println("wrote " + out);
    }
}
