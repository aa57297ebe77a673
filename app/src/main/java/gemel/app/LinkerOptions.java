package gemel.app;

import gemel.data.KnowledgeBase;
import gemel.data.MelDataset;
import gemel.demos.DemoRetriever;
import gemel.demos.EmbeddingCache;
import gemel.demos.SentenceEncoder;
import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.model.CausalLM;
import gemel.engine.model.Decoders;
import gemel.engine.tokenizer.Tokenizer;
import gemel.link.DecodingOptions;
import gemel.link.EntityTree;
import gemel.link.FeatureMapper;
import gemel.link.LinkIndex;
import gemel.link.Linker;
import gemel.link.LinkerSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options {@code link} and {@code eval} share: model, mapper, knowledge base, index, decoding and demonstrations. */
final class LinkerOptions {
    @Option(names = "--model", required = true, description = "Hugging Face model folder (config.json, weights, tokenizer)")
    Path model;

    @Option(names = "--mapper", required = true, description = "feature mapper trained for this model (gemel safetensors or the reference's .pkl)")
    Path mapper;

    @Option(names = "--kb", required = true, description = "knowledge base (.jsonl {id, name}, .tsv id<TAB>name, or one name per line)")
    Path kb;

    @Option(names = "--index", description = "index folder from 'gemel index' (entity tree, cached embeddings); default: build the tree now")
    Path index;

    @Option(names = "--beams", defaultValue = "5", description = "beam width (default: ${DEFAULT-VALUE})")
    int beams;

    @Option(names = "--max-new-tokens", defaultValue = "32", description = "longest generated name in tokens (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--length-penalty", defaultValue = "1.0", description = "beam score = log-probability / length^penalty (default: ${DEFAULT-VALUE})")
    double lengthPenalty;

    @Option(names = "--top-k", defaultValue = "1", description = "beams to return per mention, at most --beams (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--no-tree", description = "generate freely instead of only knowledge-base names (the reference's ablation)")
    boolean noTree;

    @Option(names = "--no-image", description = "replace every image feature by zeros (the visual tokens keep only the mapper's bias)")
    boolean noImage;

    @Option(names = "--nil-threshold", description = "report NIL when the best beam's score (mean log-probability per token) is below this")
    Double nilThreshold;

    @Option(names = "--parallel", defaultValue = "1", description = "mentions linked at once (default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--train", description = "training JSON lines that demonstrations are drawn from")
    Path train;

    @Option(names = "--features", description = "image features (.hdf5 / .h5 / .gfeat) of the mentions and the training records")
    Path features;

    @Option(names = "--demos", defaultValue = "16", description = "demonstrations per mention, retrieved from --train (default: ${DEFAULT-VALUE}; 0 for none)")
    int demos;

    @Mixin
    SentenceEncoderOptions encoderOptions;

    @Mixin
    RecordOptions records;

    /** The model with everything the linker needs; closing it releases the model's weights. */
    record Loaded(CausalLM model, Linker linker, int knowledgeBaseSize) implements AutoCloseable {
        @Override
        public void close() { model.close(); }
    }

    /** The settings of these options returning {@code keep} beams per query. */
    LinkerSettings settings(int keep) {
        return new LinkerSettings(new DecodingOptions(beams, maxNewTokens, lengthPenalty, !noTree, keep),
                nilThreshold == null ? Double.NEGATIVE_INFINITY : nilThreshold, noImage);
    }

    /** Loads the model, its tokenizer, the knowledge base, the entity tree (from --index or built) and the mapper. */
    Loaded load(PrintStream log) throws IOException { return load(log, topK); }

    /** As {@link #load(PrintStream)}, the linker returning {@code keep} beams per query. */
    Loaded load(PrintStream log, int keep) throws IOException {
        if (parallel < 1) throw new IllegalArgumentException("--parallel must be >= 1, got " + parallel);
        LinkerSettings settings = settings(keep);
        KnowledgeBase knowledgeBase = KnowledgeBase.read(kb);
        log.printf("knowledge base: %,d entities, %,d distinct names (%s)%n", knowledgeBase.size(), knowledgeBase.names().size(), kb);
        CausalLM lm = Decoders.load(HfConfig.load(model), Checkpoint.open(model));
        try {
            Tokenizer tokenizer = Tokenizer.load(model);
            FeatureMapper featureMapper = FeatureMapper.load(mapper, lm.shape());
            EntityTree tree = LinkIndex.tree(index, tokenizer, lm.shape(), knowledgeBase, log);
            return new Loaded(lm, Linker.forKnowledgeBase(lm, tokenizer, featureMapper, tree, knowledgeBase, settings), knowledgeBase.size());
        } catch (IOException | RuntimeException e) {
            lm.close();
            throw e;
        }
    }

    /** The training records (NIL dropped, bad lines as --bad-lines says), or an error when --train is missing. */
    MelDataset training(String why) throws IOException {
        if (train == null) throw new IllegalArgumentException("--train is needed " + why);
        return records.training(train);
    }

    /** A retriever over the training mentions, their embeddings cached in the index (or beside the training file). */
    DemoRetriever retriever(MelDataset training, SentenceEncoder sentences) throws IOException {
        return DemoRetriever.build(training.examples(), sentences, new EmbeddingCache(embeddingsDir(index, train)), System.err);
    }

    /** The encoder that embeds mentions for retrieval: --encoder, or the built-in all-MiniLM-L6-v2. */
    SentenceEncoder sentenceEncoder() throws IOException { return encoderOptions.open(); }

    static Path embeddingsDir(Path index, Path train) {
        return index != null ? index.resolve(LinkIndex.EMBEDDINGS) : train.toAbsolutePath().getParent().resolve("embeddings");
    }
}
