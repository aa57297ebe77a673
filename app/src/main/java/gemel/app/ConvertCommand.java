package gemel.app;

import gemel.data.ConvertedData;
import gemel.data.MimicConverter;
import gemel.data.WikiDiverseConverter;
import gemel.data.WikiMelConverter;
import gemel.data.MelDataset;
import gemel.demos.DemoRetriever;
import gemel.demos.DemosFile;
import gemel.demos.EmbeddingCache;
import gemel.demos.ProgressMeter;
import gemel.demos.SentenceEncoder;
import gemel.features.FeatureStore;
import gemel.features.FeatureStoreWriter;
import gemel.features.Hdf5ImageFeatures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gemel convert}: published data layouts into the reference's JSON lines, HDF5 features into a store. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert published data sets into the reference's JSON lines (one file per split, plus kb.jsonl).",
        subcommands = {ConvertCommand.WikiMel.class, ConvertCommand.Mimic.class, ConvertCommand.WikiDiverse.class,
                ConvertCommand.Features.class, ConvertCommand.Demos.class})
public final class ConvertCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(System.out); }

    /** Reads a published layout. */
    @FunctionalInterface
    private interface Conversion {
        ConvertedData run() throws IOException;
    }

    private static int convertAndWrite(Conversion convert, Path out) {
        return CommandErrors.guarded("convert", () -> {
            ConvertedData data = convert.run();
            List<Path> files = data.write(out);
            System.out.print(data.report());
            for (Path f : files) System.out.println("wrote " + f);
        });
    }

    /** {@code name=file} pairs, in the order given. */
    private static Map<String, Path> splits(List<String> pairs) {
        Map<String, Path> out = new LinkedHashMap<>();
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0 || eq == pair.length() - 1)
                throw new IllegalArgumentException("--split expects NAME=FILE, got '" + pair + "'");
            if (out.put(pair.substring(0, eq), Path.of(pair.substring(eq + 1))) != null)
                throw new IllegalArgumentException("split '" + pair.substring(0, eq) + "' given twice");
        }
        return out;
    }

    @Command(name = "wikimel", mixinStandardHelpOptions = true,
            description = "WikiMEL as published (Wikidata-MEL.json, splits.json, qid2ne.json, qid2abs.json in one folder).")
    static final class WikiMel implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "folder with Wikidata-MEL.json and splits.json (qid2ne.json / qid2abs.json used when present)")
        Path dir;

        @Option(names = "--out", required = true, description = "output folder")
        Path out;

        @Override
        public Integer call() {
            Path qid2ne = dir.resolve("qid2ne.json");
            Path qid2abs = dir.resolve("qid2abs.json");
            return convertAndWrite(() -> WikiMelConverter.convert(dir.resolve("Wikidata-MEL.json"), dir.resolve("splits.json"),
                    Files.exists(qid2ne) ? qid2ne : null, Files.exists(qid2abs) ? qid2abs : null), out);
        }
    }

    @Command(name = "mimic", mixinStandardHelpOptions = true,
            description = "MIMIC-style files: JSON arrays of {sentence, mentions, imgPath, entities, answer} per split, KB kb_entity.json.")
    static final class Mimic implements Callable<Integer> {
        @Option(names = "--split", required = true, paramLabel = "NAME=FILE", description = "a split and its file, e.g. train=WIKIMEL_train.json (repeatable)")
        List<String> split;

        @Option(names = "--kb", description = "kb_entity.json (names for records without 'entities'; written as kb.jsonl)")
        Path kb;

        @Option(names = "--out", required = true, description = "output folder")
        Path out;

        @Override
        public Integer call() { return convertAndWrite(() -> MimicConverter.convert(splits(split), kb), out); }
    }

    @Command(name = "wikidiverse", mixinStandardHelpOptions = true,
            description = "WikiDiverse as published: JSON arrays of [text, image url, topic, [[mention, type, start, end, url], ...]].")
    static final class WikiDiverse implements Callable<Integer> {
        @Option(names = "--split", required = true, paramLabel = "NAME=FILE", description = "a split and its file, e.g. train=train.json (repeatable)")
        List<String> split;

        @Option(names = "--out", required = true, description = "output folder")
        Path out;

        @Override
        public Integer call() { return convertAndWrite(() -> WikiDiverseConverter.convert(splits(split)), out); }
    }

    @Command(name = "features", mixinStandardHelpOptions = true,
            description = "Copy an HDF5 image-feature file into gemel's memory-mapped feature store (" + FeatureStore.EXTENSION + ").")
    static final class Features implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "HDF5", description = "the HDF5 file (one dataset per image)")
        Path hdf5;

        @Option(names = "--out", required = true, description = "the store to write (" + FeatureStore.EXTENSION + ")")
        Path out;

        @Override
        public Integer call() {
            return CommandErrors.guarded("convert", this::copy);
        }

        private void copy() throws IOException {
            try (Hdf5ImageFeatures in = Hdf5ImageFeatures.open(hdf5);
                 FeatureStoreWriter w = new FeatureStoreWriter(out, in.dim())) {
                ProgressMeter meter = new ProgressMeter(System.err, "copying features", in.size());
                for (String key : in.keys()) {
                    w.add(key, in.find(key));
                    meter.advance(1);
                }
                w.commit();
                System.out.printf(Locale.ROOT, "wrote %s: %,d vectors of %d%n", out, w.count(), in.dim());
            }
        }
    }

    @Command(name = "demos", mixinStandardHelpOptions = true,
            description = "Retrieve in-context demonstrations for every record of a JSON-lines file and save them "
                    + "as a demos file ({\"demos\": [training indices]} per line, least similar first).")
    static final class Demos implements Callable<Integer> {
        @Option(names = "--train", required = true, description = "the training JSON lines (indices refer to its kept records: NIL dropped)")
        Path train;

        @Option(names = "--queries", description = "JSON lines to retrieve for (default: the training file itself, excluding each item's twins)")
        Path queries;

        @Option(names = "-n", defaultValue = "16", description = "demonstrations per record (default: ${DEFAULT-VALUE})")
        int n;

        @Mixin
        SentenceEncoderOptions sentences;

        @Mixin
        RecordOptions records;

        @Option(names = "--cache", description = "folder of cached training embeddings (default: beside the training file)")
        Path cache;

        @Option(names = "--out", required = true, description = "the demos file to write")
        Path out;

        @Override
        public Integer call() { return CommandErrors.guarded("convert", this::retrieve); }

        private void retrieve() throws IOException {
            if (queries == null) records.refuseKeepNil("without --queries the training records, which drop NIL, are the queries");
            MelDataset training = records.training(train);
            SentenceEncoder encoder = sentences.open();
            Path cacheDir = cache != null ? cache : train.toAbsolutePath().getParent().resolve("embeddings");
            DemoRetriever retriever = DemoRetriever.build(training.examples(), encoder, new EmbeddingCache(cacheDir), System.err);
            List<int[]> demos;
            if (queries == null) {
                demos = retriever.forTrainingSet(n, System.err);
            } else {
                MelDataset q = records.evaluated(queries);
                demos = retriever.forQueries(q.examples(), n, System.err);
            }
            DemosFile.write(out, demos);
            System.out.printf(Locale.ROOT, "wrote %s: %,d records x %d demonstrations%n", out, demos.size(), n);
        }
    }
}
