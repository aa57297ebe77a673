package gemel.app;

import gemel.app.worker.ModelIdentity;
import gemel.app.worker.RemoteWorker;
import gemel.data.KnowledgeBase;
import gemel.data.MelExample;
import gemel.demos.EmbeddingCache;
import gemel.demos.SentenceEncoder;
import gemel.engine.config.HfConfig;
import gemel.engine.grad.InputGradients;
import gemel.engine.io.Checkpoint;
import gemel.engine.model.CausalLM;
import gemel.engine.model.Decoders;
import gemel.engine.tokenizer.Tokenizer;
import gemel.features.ImageFeatures;
import gemel.features.MissingFeaturePolicy;
import gemel.link.DecodingOptions;
import gemel.link.EntityNames;
import gemel.link.EntityTree;
import gemel.link.FeatureMapper;
import gemel.link.NameSearch;
import gemel.link.PromptBuilder;
import gemel.link.SearchPool;
import gemel.train.DevEvaluator;
import gemel.train.ExampleGradients;
import gemel.train.GradientPool;
import gemel.train.LinkingData;
import gemel.train.MapperTrainer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import jdk.incubator.vector.FloatVector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gemel train}: trains the feature mapper on a frozen LLM and writes the run directory
 * (mapper.safetensors, checkpoint.safetensors, metrics.jsonl, training.png).
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains GEMEL's feature mapper (CLIP feature -> k visual prefix tokens) through a frozen LLM.",
                "Writes RUN_DIR/mapper.safetensors (the best mapper by dev accuracy; load it with `gemel eval --mapper`), "
                        + "RUN_DIR/checkpoint.safetensors (continue with --resume), RUN_DIR/metrics.jsonl and RUN_DIR/training.png.",
                "Defaults are the reference's where they carry over to fp32 training; the reference trained OPT in fp16 "
                        + "with lr 1e-6, weight decay 0.01, eps 1e-6, clip 1.0, batch 1 x accumulation 16, 5 epochs, 10 %% warmup, "
                        + "seed 42, dev every 5000 steps, 16 demonstrations, k = 4."})
public final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face LLM folder (config.json, weights, tokenizer).")
    Path model;

    @Option(names = "--train", required = true, paramLabel = "T", description = "Training mentions, JSON lines (text, mention, img_url|img_name, golden, target).")
    Path train;

    @Option(names = "--dev", paramLabel = "D", description = "Dev mentions (same format) for accuracy during training; without it the last mapper is kept.")
    Path dev;

    @Option(names = "--features", required = true, paramLabel = "F", description = "Image features: the reference's .hdf5 or a .gfeat store.")
    Path features;

    @Option(names = "--kb", required = true, paramLabel = "KB", description = "Knowledge base (.jsonl, .tsv or one name per line): the names the decoder may generate.")
    Path kb;

    @Option(names = "--out", required = true, paramLabel = "RUN_DIR", description = "The run directory.")
    Path out;

    @Option(names = "--demos", defaultValue = "16", paramLabel = "N", description = "Demonstrations per prompt (reference: ${DEFAULT-VALUE}).")
    int demos;

    @Option(names = "--image-tokens", defaultValue = "4", paramLabel = "K", description = "Visual prefix tokens per image (reference: ${DEFAULT-VALUE}).")
    int imageTokens;

    @Option(names = "--epochs", defaultValue = "5", paramLabel = "E", description = "Epochs (reference: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--lr", defaultValue = "1e-6", paramLabel = "LR", description = "Peak learning rate (reference: ${DEFAULT-VALUE}, on fp16 weights).")
    double lr;

    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW decoupled weight decay, not on the bias (reference: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--eps", defaultValue = "1e-6", description = "AdamW epsilon (reference: ${DEFAULT-VALUE}).")
    double eps;

    @Option(names = "--clip", defaultValue = "1.0", description = "Gradient norm clipping (reference: ${DEFAULT-VALUE}).")
    double clip;

    @Option(names = "--grad-accum", defaultValue = "16", paramLabel = "A", description = "Examples per optimizer step, batch 1 each (reference: ${DEFAULT-VALUE}).")
    int gradAccum;

    @Option(names = "--warmup", defaultValue = "0.1", description = "Linear warmup, fraction of the optimizer steps (reference: ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--eval-every", defaultValue = "5000", paramLabel = "S",
            description = "Dev accuracy and checkpoint every S optimizer steps, and at the end (reference: ${DEFAULT-VALUE}; 0: end only).")
    int evalEvery;

    @Option(names = "--dev-limit", paramLabel = "N", description = "Evaluate on the first N dev mentions only (default: all).")
    Integer devLimit;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the shuffling and the mapper's initialisation (reference: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--resume", description = "Continue the run in RUN_DIR from its checkpoint (same settings).")
    boolean resume;

    @Option(names = "--stop-after", paramLabel = "STEPS", description = "Stop after this optimizer step, leaving a checkpoint for --resume.")
    Long stopAfter;

    @Mixin
    RecomputeOption recompute;

    @Option(names = "--checkpoint-minutes", defaultValue = "30", paramLabel = "M",
            description = "Also write the checkpoint at the first optimizer step M minutes after the last one, so that a crash loses at "
                    + "most that much work (default: ${DEFAULT-VALUE}; 0: every step).")
    double checkpointMinutes;

    @Option(names = "--workers", split = ",", paramLabel = "URL",
            description = "Machines that compute the examples' gradients, each step's examples all at once: 'gemel worker' URLs "
                    + "(http://host:8081), and 'local' for this machine (default: this machine alone). The mapper comes out as on one "
                    + "machine; a worker lost is dropped and its example goes to another.")
    List<String> workers;

    @Option(names = "--worker-timeout-minutes", defaultValue = "60", paramLabel = "M",
            description = "A worker that has not answered a request within M minutes is taken for lost (default: ${DEFAULT-VALUE}).")
    double workerTimeoutMinutes;

    @Option(names = "--missing-features", defaultValue = "FAIL", paramLabel = "POLICY",
            description = "Mentions whose image has no feature: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    MissingFeaturePolicy missing;

    @Mixin
    SentenceEncoderOptions sentenceEncoder;

    @Mixin
    RecordOptions records;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintStream progress = System.err;
        try {
            records.refuseKeepNil("a NIL record names no entity to train on, and dev accuracy is measured as the reference does");
            List<MelExample> trainSet = records.training(train).examples();
            List<MelExample> devSet = dev == null ? List.of() : records.training(dev).examples();
            if (devLimit != null && devLimit < devSet.size()) devSet = devSet.subList(0, devLimit);
            KnowledgeBase knowledge = KnowledgeBase.read(kb);
            HfConfig config = HfConfig.load(model);
            try (CausalLM lm = Decoders.load(config, Checkpoint.open(model));
                 ImageFeatures images = ImageFeatures.open(features)) {
                Tokenizer tokenizer = Tokenizer.load(model);
                SentenceEncoder sentences = sentenceEncoder.open();
                LinkingData data = LinkingData.of(trainSet, images, missing, sentences, new EmbeddingCache(out.resolve("cache")), progress);
                PromptBuilder prompts = new PromptBuilder(tokenizer, imageTokens);
                InputGradients local = InputGradients.of(lm, recompute.recompute);
                List<RemoteWorker> remote = workers(lm, progress);
                DevEvaluator evaluator = null;
                LinkingData.Queries devQueries = null;
                if (!devSet.isEmpty()) {
                    EntityTree tree = EntityNames.tree(tokenizer, knowledge.names(), lm.shape().bosTokenId(), lm.shape().eosTokenId(), progress);
                    evaluator = devSearches(new DevEvaluator(lm, tokenizer, tree, knowledge, DecodingOptions.reference(), data), remote,
                            NameSearch.local(lm, tree), ModelIdentity.of(knowledge), progress);
                    devQueries = data.queries(devSet, demos);
                }
                DevEvaluator devEvaluator = evaluator;
                LinkingData.Queries devData = devQueries;
                GradientPool pool = gradientPool(local, remote, progress);
                MapperTrainer trainer = new MapperTrainer(lm, pool, data.trainingSet(prompts, demos),
                        devEvaluator == null ? null : m -> devEvaluator.evaluate(devData, m, true).accuracy(),
                        new MapperTrainer.Settings(epochs, lr, weightDecay, eps, clip, gradAccum, warmup, evalEvery, seed,
                                minutes(checkpointMinutes)), progress);
                progress.printf(Locale.ROOT, "training on %d mentions (%d demonstrations each), %d optimizer steps; dev: %d mentions%n",
                        data.train().size(), demos, trainer.totalSteps(), devSet.size());
                FeatureMapper mapper = FeatureMapper.initial(lm.shape(), data.dimClip(), imageTokens, seed);
                MapperTrainer.Outcome o;
                try (pool) {
                    o = trainer.run(mapper, out, resume, stopAfter == null ? Long.MAX_VALUE : stopAfter);
                }
                PrintWriter stdout = spec.commandLine().getOut();
                if (o.finished())
                    stdout.printf(Locale.ROOT, "trained %d optimizer steps, last loss %.4f%s; mapper written to %s%n", o.optimizerSteps(), o.finalLoss(),
                            o.bestAccuracy() < 0 ? "" : String.format(Locale.ROOT, ", best dev accuracy %.2f %% at step %d", 100 * o.bestAccuracy(), o.bestStep()),
                            o.output());
                else stdout.printf(Locale.ROOT, "stopped after optimizer step %d; checkpoint %s (continue with --resume)%n", o.optimizerSteps(), o.output());
                stdout.flush();
                return 0;
            }
        } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            err.println("gemel train: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("gemel train: " + e.getMessage());
            return 1;
        }
    }

    /** Whether --workers names this machine too (or nothing, which means this machine alone). */
    private boolean usesThisMachine() { return workers == null || workers.isEmpty() || workers.stream().anyMatch(w -> w.strip().equals("local")); }

    /** The --workers on other machines, each checked to hold this model. */
    private List<RemoteWorker> workers(CausalLM lm, PrintStream progress) throws IOException {
        List<RemoteWorker> remote = new ArrayList<>();
        if (workers == null) return remote;
        if (!(workerTimeoutMinutes > 0)) throw new IllegalArgumentException("--worker-timeout-minutes must be positive, got " + workerTimeoutMinutes);
        Duration timeout = minutes(workerTimeoutMinutes);
        String identity = ModelIdentity.of(model);
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        for (String w : workers) {
            if (w.strip().equals("local")) continue;
            URI uri;
            try {
                uri = URI.create(w.strip());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--workers: '" + w + "' is neither 'local' nor a URL like http://host:8081", e);
            }
            if (!"http".equals(uri.getScheme()) || uri.getHost() == null)
                throw new IllegalArgumentException("--workers: '" + w + "' is neither 'local' nor a URL like http://host:8081");
            RemoteWorker worker = RemoteWorker.connect(uri, identity, lm.shape().inputWidth(), timeout);
            if (worker.vectorBits() != bits)
                progress.printf(Locale.ROOT, "note: %s computes with %d-bit vectors, this machine with %d: its gradients differ from this "
                        + "machine's in their last bits, so the mapper will not be the one machine's bit for bit%n", worker.name(), worker.vectorBits(), bits);
            remote.add(worker);
        }
        return remote;
    }

    /** Where the examples' gradients are computed: this machine alone, or the workers (and this machine if named). */
    private GradientPool gradientPool(InputGradients local, List<RemoteWorker> remote, PrintStream progress) {
        if (remote.isEmpty()) return GradientPool.local(local);
        List<ExampleGradients> sources = new ArrayList<>();
        if (usesThisMachine()) sources.add(ExampleGradients.local(local));
        sources.addAll(remote);
        progress.printf(Locale.ROOT, "gradients on %d machines: %s%n", sources.size(), String.join(", ", sources.stream().map(ExampleGradients::name).toList()));
        return new GradientPool(sources, progress);
    }

    /** The evaluator with its beam searches on the workers that hold this knowledge base (and this machine if named). */
    private DevEvaluator devSearches(DevEvaluator evaluator, List<RemoteWorker> remote, NameSearch local, String knowledgeBase, PrintStream progress) {
        List<NameSearch> searches = new ArrayList<>();
        for (RemoteWorker w : remote) {
            if (knowledgeBase.equals(w.knowledgeBase())) searches.add(w);
            else progress.printf(Locale.ROOT, "note: %s %s, so dev accuracy does not search on it (start it with --kb %s)%n", w.name(),
                    w.knowledgeBase() == null ? "has no knowledge base" : "holds another knowledge base", kb);
        }
        if (searches.isEmpty()) return evaluator;
        if (usesThisMachine()) searches.add(0, local);
        progress.printf(Locale.ROOT, "dev searches on %d machines: %s%n", searches.size(), String.join(", ", searches.stream().map(NameSearch::name).toList()));
        return evaluator.searchingOn(new SearchPool(searches, progress));
    }

    private static Duration minutes(double m) { return Duration.ofMillis(Math.round(m * 60_000)); }
}
