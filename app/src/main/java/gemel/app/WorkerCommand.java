package gemel.app;

import gemel.app.worker.WorkerServer;
import gemel.app.worker.ModelIdentity;
import gemel.data.KnowledgeBase;
import gemel.engine.config.HfConfig;
import gemel.engine.grad.InputGradients;
import gemel.engine.io.Checkpoint;
import gemel.engine.model.CausalLM;
import gemel.engine.model.Decoders;
import gemel.engine.tokenizer.Tokenizer;
import gemel.link.EntityNames;
import gemel.link.NameSearch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gemel worker}: one more machine for {@code gemel train --workers}. */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Serve a frozen model's loss and input gradients to 'gemel train --workers' on another machine: the trainer sends "
                + "each example's embeddings and labels, the worker answers with the loss and the gradient; with --kb also the beam "
                + "searches of the trainer's dev accuracy. Give every worker the trainer's checkpoint and knowledge base (they are checked).")
final class WorkerCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face model folder, the trainer's --model")
    Path model;

    @Option(names = "--kb", description = "knowledge base (.jsonl, .tsv or one name per line), the trainer's --kb: with it the worker also "
            + "runs the beam searches of the trainer's dev accuracy")
    Path kb;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on (default: ${DEFAULT-VALUE}, this machine only; "
            + "0.0.0.0 for every network the machine is on)")
    String host;

    @Option(names = "--port", defaultValue = "8081", description = "port to listen on, 0 for any free one (default: ${DEFAULT-VALUE})")
    int port;

    @Mixin
    RecomputeOption recompute;

    @Option(names = "--max-body", defaultValue = "536870912", description = "largest request in bytes (default: ${DEFAULT-VALUE})")
    long maxBody;

    @Override
    public Integer call() { return CommandErrors.guarded("worker", this::work); }

    private void work() throws IOException {
        try (CausalLM lm = Decoders.load(HfConfig.load(model), Checkpoint.open(model))) {
            String identity = ModelIdentity.of(model);
            NameSearch search = null;
            String kbIdentity = null;
            if (kb != null) {
                KnowledgeBase knowledge = KnowledgeBase.read(kb);
                search = NameSearch.local(lm, EntityNames.tree(Tokenizer.load(model), knowledge.names(), lm.shape().bosTokenId(),
                        lm.shape().eosTokenId(), System.err));
                kbIdentity = ModelIdentity.of(knowledge);
            }
            try (WorkerServer server = WorkerServer.start(InputGradients.of(lm, recompute.recompute), lm.shape(), identity, search, kbIdentity,
                    host, port, maxBody, System.err)) {
                CountDownLatch stopped = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "gemel-worker-shutdown"));
                System.out.println("gemel worker: " + lm.shape().architecture() + " (identity " + identity + ")"
                        + (kb == null ? "" : ", searching " + kb.getFileName()) + " on " + server.uri() + " (Ctrl-C to stop)");
                System.out.flush();
                try {
                    stopped.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
