package gemel.app;

import gemel.data.KnowledgeBase;
import gemel.data.MelDataset;
import gemel.data.MelExample;
import gemel.demos.EmbeddingCache;
import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.model.CausalLM;
import gemel.engine.model.Decoders;
import gemel.engine.tokenizer.Tokenizer;
import gemel.link.EntityTree;
import gemel.link.LinkIndex;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gemel index}: the entity tree of a knowledge base for one model, and the training mentions' embeddings. */
@Command(name = "index", mixinStandardHelpOptions = true,
        description = "Build what linking precomputes: the entity tree of the knowledge base's names for this model's tokenizer, "
                + "and (with --train) the sentence embeddings of the training mentions for demonstration retrieval.")
final class IndexCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face model folder (config.json, weights, tokenizer)")
    Path model;

    @Option(names = "--kb", required = true, description = "knowledge base (.jsonl {id, name}, .tsv id<TAB>name, or one name per line)")
    Path kb;

    @Option(names = "--train", description = "training JSON lines whose mentions are embedded for demonstration retrieval")
    Path train;

    @Mixin
    SentenceEncoderOptions encoder;

    @Mixin
    RecordOptions records;

    @Option(names = "--out", required = true, description = "the index folder to write")
    Path out;

    @Override
    public Integer call() { return CommandErrors.guarded("index", this::build); }

    private void build() throws IOException {
        records.refuseKeepNil("--train records are shown as demonstrations, which a NIL record cannot be");
        KnowledgeBase knowledgeBase = KnowledgeBase.read(kb);
        try (CausalLM lm = Decoders.load(HfConfig.load(model), Checkpoint.open(model))) {
            EntityTree tree = LinkIndex.build(out, Tokenizer.load(model), lm.shape(), knowledgeBase, System.err);
            System.out.printf(Locale.ROOT, "wrote %s: %,d names, %,d nodes%n", out.resolve(LinkIndex.TREE), tree.entryCount(), tree.nodeCount());
        }
        if (train != null) {
            MelDataset training = records.training(train);
            EmbeddingCache cache = new EmbeddingCache(LinkerOptions.embeddingsDir(out, train));
            var sentences = encoder.open();
            var mentions = training.examples().stream().map(MelExample::mention).toList();
            float[][] embedded = cache.embeddings(sentences, mentions, System.err);
            System.out.printf(Locale.ROOT, "wrote %s: %,d training mentions embedded by %s%n", cache.fileFor(sentences, mentions),
                    embedded.length, sentences.id());
        }
    }
}
