package gemel.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import gemel.app.worker.RemoteWorker;
import gemel.app.worker.WorkerServer;
import gemel.app.worker.ModelIdentity;
import gemel.data.KnowledgeBase;
import gemel.engine.config.HfConfig;
import gemel.engine.generate.Hypothesis;
import gemel.engine.grad.InputGradients;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.SafetensorsFile;
import gemel.engine.model.CausalLM;
import gemel.engine.model.Decoders;
import gemel.engine.tokenizer.Tokenizer;
import gemel.link.DecodingOptions;
import gemel.link.EntityNames;
import gemel.link.EntityTree;
import gemel.link.NameSearch;
import gemel.synth.ByteLevelBpeTrainer;
import gemel.synth.SyntheticBenchmark;
import gemel.synth.TinyOptWriter;
import gemel.train.MetricsLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gemel train} on a small synthetic benchmark: outputs, stop and resume to the same mapper, bad input. */
class TrainCommandTest {

    @TempDir
    Path tmp;

    private SyntheticBenchmark.BenchmarkFiles prepare() throws Exception {
        SyntheticBenchmark bench = SyntheticBenchmark.generate(new SyntheticBenchmark.Settings(2, 2, 8, 3, 1, 1, 0.2, 7));
        SyntheticBenchmark.BenchmarkFiles files = bench.write(tmp.resolve("data"));
        ByteLevelBpeTrainer.Vocabulary v = ByteLevelBpeTrainer.train(bench.corpus(), 100);
        ByteLevelBpeTrainer.writeOptFolder(v, tmp.resolve("model"));
        TinyOptWriter.write(new TinyOptWriter.Shape(v.tokens().size(), 16, 1, 2, 32, 256), 1, tmp.resolve("model"));
        return files;
    }

    private ForwardCommandTest.Run train(SyntheticBenchmark.BenchmarkFiles f, Path out, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--model", tmp.resolve("model").toString(), "--train", f.train().toString(),
                "--dev", f.dev().toString(), "--features", f.features().toString(), "--kb", f.kb().toString(), "--out", out.toString(),
                "--demos", "1", "--image-tokens", "2", "--epochs", "2", "--grad-accum", "2", "--lr", "1e-2", "--eval-every", "2"));
        args.addAll(Arrays.asList(extra));
        return ForwardCommandTest.gemel(args.toArray(String[]::new));
    }

    @Test
    void trainsWritesTheRunAndResumesExactly() throws Exception {
        SyntheticBenchmark.BenchmarkFiles f = prepare();
        ForwardCommandTest.Run whole = train(f, tmp.resolve("whole"));
        assertEquals(0, whole.code(), whole.err());
        assertTrue(whole.out().contains("trained 12 optimizer steps"), whole.out());
        for (String file : List.of("mapper.safetensors", "checkpoint.safetensors", "metrics.jsonl", "training.png"))
            assertTrue(Files.exists(tmp.resolve("whole").resolve(file)), file);

        ForwardCommandTest.Run first = train(f, tmp.resolve("split"), "--stop-after", "5");
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("stopped after optimizer step 5"), first.out());
        ForwardCommandTest.Run rest = train(f, tmp.resolve("split"), "--resume");
        assertEquals(0, rest.code(), rest.err());
        try (SafetensorsFile a = SafetensorsFile.open(tmp.resolve("whole/mapper.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(tmp.resolve("split/mapper.safetensors"))) {
            assertTrue(Arrays.equals(a.tensor("weight").toFloats(), b.tensor("weight").toFloats()), "same mapper after stop + resume");
        }
        List<Map<String, Object>> events = MetricsLog.read(tmp.resolve("split/metrics.jsonl"));
        assertEquals(MetricsLog.read(tmp.resolve("whole/metrics.jsonl")), events);
    }

    /**
     * Gradients computed by workers (two servers on free ports, over a copy of the model folder elsewhere, and this
     * machine) give the mapper and metrics of one machine, bit for bit; a worker that fails is dropped and its examples
     * go to the others; a worker of another model is refused before training starts.
     */
    @Test
    void workersTrainTheMapperOneMachineTrains() throws Exception {
        SyntheticBenchmark.BenchmarkFiles f = prepare();
        ForwardCommandTest.Run alone = train(f, tmp.resolve("alone"));
        assertEquals(0, alone.code(), alone.err());

        Path copy = Files.createDirectories(tmp.resolve("elsewhere/model"));
        try (var files = Files.list(tmp.resolve("model"))) {
            for (Path file : files.toList()) Files.copy(file, copy.resolve(file.getFileName()));
        }
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        KnowledgeBase knowledge = KnowledgeBase.read(f.kb());
        try (CausalLM lm = Decoders.load(HfConfig.load(copy), Checkpoint.open(copy))) {
            EntityTree tree = EntityNames.tree(Tokenizer.load(copy), knowledge.names(), lm.shape().bosTokenId(), lm.shape().eosTokenId(), null);
            NameSearch here = NameSearch.local(lm, tree);
            // a: gradients and the dev searches over the knowledge base; b: gradients only
            try (WorkerServer a = WorkerServer.start(InputGradients.of(lm, true), lm.shape(), ModelIdentity.of(copy), here, ModelIdentity.of(knowledge),
                         "127.0.0.1", 0, 1 << 26, quiet);
                 WorkerServer b = WorkerServer.start(InputGradients.of(lm, false), lm.shape(), ModelIdentity.of(copy), null, null, "127.0.0.1", 0, 1 << 26, quiet);
                 FailingWorker failing = new FailingWorker(ModelIdentity.of(copy), lm.shape().inputWidth(), 0);
                 FailingWorker stuck = new FailingWorker(ModelIdentity.of(copy), lm.shape().inputWidth(), 10_000)) {
                workersAnswerAsThisMachine(lm, here, a, copy);
                trainOn(f, a, b, failing, stuck);
            }
        }
        try (FailingWorker other = new FailingWorker("0123456789abcdef01234567", 16, 0)) {
            ForwardCommandTest.Run refused = train(f, tmp.resolve("refused"), "--workers", other.uri().toString());
            assertEquals(1, refused.code());
            assertTrue(refused.err().contains("holds another model"), refused.err());
        }
    }

    /** A worker's beam search over a prompt gives this machine's hypotheses, bit for bit. */
    private static void workersAnswerAsThisMachine(CausalLM lm, NameSearch here, WorkerServer a, Path model) throws IOException {
        RemoteWorker remote = RemoteWorker.connect(a.uri(), ModelIdentity.of(model), lm.shape().inputWidth(), Duration.ofMinutes(1));
        float[] prompt = new float[9 * lm.shape().inputWidth()];
        Random r = new Random(5);
        for (int i = 0; i < prompt.length; i++) prompt[i] = (float) r.nextGaussian();
        DecodingOptions d = new DecodingOptions(3, 6, 1.0, true, 3);
        List<Hypothesis> there = remote.search(prompt, 9, d), local = here.search(prompt, 9, d);
        assertEquals(local.size(), there.size());
        for (int i = 0; i < local.size(); i++) {
            assertArrayEquals(local.get(i).tokens(), there.get(i).tokens());
            assertEquals(Double.doubleToLongBits(local.get(i).score()), Double.doubleToLongBits(there.get(i).score()));
            assertEquals(local.get(i).ended(), there.get(i).ended());
        }
    }

    /**
     * Training on a, this machine and b; on a failing worker and b; on a stuck worker (past a timeout of 0.6 s) and b:
     * each time the run of this machine alone.
     */
    private void trainOn(SyntheticBenchmark.BenchmarkFiles f, WorkerServer a, WorkerServer b, FailingWorker failing, FailingWorker stuck) throws Exception {
        // a worker that fails goes beside one that works, so that it surely gets an example
        String[][] runs = {{"spread", a.uri() + ",local," + b.uri()}, {"failover", failing.uri() + "," + b.uri()}, {"stuck", stuck.uri() + "," + b.uri()}};
        for (String[] run : runs) {
            PrintStream err = System.err;
            ByteArrayOutputStream progress = new ByteArrayOutputStream();
            ForwardCommandTest.Run spread;
            try {
                System.setErr(new PrintStream(progress, true, StandardCharsets.UTF_8)); // where training reports its progress
                spread = train(f, tmp.resolve(run[0]), "--workers", run[1], "--worker-timeout-minutes", "0.01");
            } finally {
                System.setErr(err);
            }
            String log = progress.toString(StandardCharsets.UTF_8);
            assertEquals(0, spread.code(), spread.err() + log);
            assertTrue(log.contains("gradients on " + run[1].split(",").length + " machines"), log);
            if (run[0].equals("spread"))
                assertTrue(log.contains("dev searches on 2 machines: this machine, worker " + a.uri()) && log.contains("worker " + b.uri() + " has no knowledge base"), log);
            if (run[0].equals("failover")) assertTrue(log.contains("dropped worker " + failing.uri() + " (HTTP 500: out of memory); 1 left"), log);
            if (run[0].equals("stuck")) assertTrue(log.contains("dropped worker " + stuck.uri() + " (request timed out); 1 left"), log);
            // the last mapper and the optimizer's moments (the mapper written is the best by dev accuracy, here the first)
            try (SafetensorsFile one = SafetensorsFile.open(tmp.resolve("alone/checkpoint.safetensors"));
                 SafetensorsFile many = SafetensorsFile.open(tmp.resolve(run[0]).resolve("checkpoint.safetensors"))) {
                for (String tensor : List.of("mapper.weight", "mapper.bias", "adam.m.weight", "adam.v.weight"))
                    assertTrue(Arrays.equals(one.tensor(tensor).toFloats(), many.tensor(tensor).toFloats()), run[0] + ": " + tensor + " as on one machine");
            }
            assertEquals(MetricsLog.read(tmp.resolve("alone/metrics.jsonl")), MetricsLog.read(tmp.resolve(run[0]).resolve("metrics.jsonl")), run[0]);
        }
    }

    /**
     * A worker that says it holds a model but fails every request inside (HTTP 500), as one that runs out of memory,
     * after {@code delayMillis} (a stuck one, when that is past the trainer's timeout).
     */
    private static final class FailingWorker implements AutoCloseable {
        private final HttpServer server;

        FailingWorker(String identity, int inputWidth, long delayMillis) throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
            byte[] model = ("{\"identity\": \"" + identity + "\", \"architecture\": \"OPTForCausalLM\", \"input_width\": " + inputWidth + "}")
                    .getBytes(StandardCharsets.UTF_8);
            server.createContext("/v1/model", ex -> answer(ex, 200, model));
            server.createContext("/v1/gradients", ex -> {
                ex.getRequestBody().readAllBytes();
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                answer(ex, 500, "out of memory".getBytes(StandardCharsets.UTF_8));
            });
            server.setExecutor(Executors.newCachedThreadPool());
            server.start();
        }

        URI uri() { return URI.create("http://127.0.0.1:" + server.getAddress().getPort()); }

        private static void answer(HttpExchange ex, int status, byte[] body) throws IOException {
            ex.sendResponseHeaders(status, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }

        @Override
        public void close() {
            server.stop(0);
            ((ExecutorService) server.getExecutor()).shutdownNow();
        }
    }

    @Test
    void missingFileIsAnErrorNamingIt() throws Exception {
        SyntheticBenchmark.BenchmarkFiles f = prepare();
        Files.delete(f.kb());
        ForwardCommandTest.Run run = train(f, tmp.resolve("run"));
        assertEquals(1, run.code());
        assertTrue(run.err().contains("kb.jsonl"), run.err());
    }
}
