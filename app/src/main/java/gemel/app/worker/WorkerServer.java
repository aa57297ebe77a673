package gemel.app.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import gemel.engine.grad.InputGradients;
import gemel.engine.model.ModelShape;
import gemel.link.NameSearch;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import jdk.incubator.vector.FloatVector;

/**
 * A frozen model's loss and input gradients over HTTP, for {@code gemel train --workers}: {@code POST /v1/gradients}
 * takes a {@link WorkerWire} request and answers with its loss and gradient; with a knowledge base, {@code POST
 * /v1/search} runs a prompt's beam search over its entity tree (the trainer's dev accuracy); {@code GET /v1/model} says
 * which model and knowledge base these are ({@link ModelIdentity}, shape, vector width). Requests are computed one at
 * a time, each on all cores; others wait their turn. A request that does not fit the model gets 400 with the reason, a
 * failure inside 500.
 */
public final class WorkerServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService turns;

    private WorkerServer(HttpServer server, ExecutorService turns) {
        this.server = server;
        this.turns = turns;
    }

    /** {@code search} and {@code kbIdentity}: the knowledge base's entity tree and which it is, or both null for none. */
    public static WorkerServer start(InputGradients gradients, ModelShape shape, String identity, NameSearch search, String kbIdentity,
                                     String host, int port, long maxBody, PrintStream log) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
        ExecutorService turns = Executors.newSingleThreadExecutor(r -> new Thread(r, "gemel-worker"));
        server.setExecutor(turns);
        byte[] model = JSON.writeValueAsBytes(JSON.createObjectNode().put("identity", identity).put("architecture", shape.architecture())
                .put("input_width", gradients.inputWidth()).put("vocab", gradients.vocabSize()).put("max_positions", shape.maxPositions())
                .put("vector_bits", FloatVector.SPECIES_PREFERRED.vectorBitSize()).put("kb", kbIdentity));
        server.createContext("/v1/model", ex -> {
            if (!ex.getRequestMethod().equals("GET")) reply(ex, 405, "use GET");
            else reply(ex, 200, "application/json", model);
        });
        post(server, "/v1/gradients", maxBody, log, body -> {
            WorkerWire.Request r = WorkerWire.readRequest(body);
            if (r.width() != gradients.inputWidth())
                throw new IllegalArgumentException("embeddings of " + r.width() + " values, this model takes " + gradients.inputWidth());
            if (r.tokens() > shape.maxPositions())
                throw new IllegalArgumentException(r.tokens() + " tokens, this model holds " + shape.maxPositions() + " positions");
            for (int label : r.labels()) {
                if (label != -100 && (label < 0 || label >= gradients.vocabSize()))
                    throw new IllegalArgumentException("label " + label + " is outside the vocabulary [0, " + gradients.vocabSize() + ")");
            }
            long t0 = System.nanoTime();
            InputGradients.Result result = gradients.compute(r.embeds(), 1, r.tokens(), null, null, r.labels());
            log.printf("gemel worker: gradients of %d tokens, loss %.4f, %.1f s%n", r.tokens(), result.loss(), (System.nanoTime() - t0) / 1e9);
            return WorkerWire.answer(result);
        });
        post(server, "/v1/search", maxBody, log, body -> {
            if (search == null) throw new IllegalArgumentException("this worker has no knowledge base: start it with --kb");
            WorkerWire.Search r = WorkerWire.readSearch(body);
            if (r.width() != gradients.inputWidth())
                throw new IllegalArgumentException("embeddings of " + r.width() + " values, this model takes " + gradients.inputWidth());
            if (r.tokens() + r.decoding().maxNewTokens() - 1 > shape.maxPositions())
                throw new IllegalArgumentException(r.tokens() + " tokens and " + r.decoding().maxNewTokens() + " new ones, this model holds "
                        + shape.maxPositions() + " positions");
            return WorkerWire.hypotheses(search.search(r.embeds(), r.tokens(), r.decoding()));
        });
        server.start();
        return new WorkerServer(server, turns);
    }

    /** What a POST endpoint answers to a request's body; an IllegalArgumentException is the request's fault. */
    private interface Answer {
        byte[] to(byte[] body) throws IOException;
    }

    /** A POST endpoint: 400 with the reason for a request that does not fit, 500 (and a log line) for a failure inside. */
    private static void post(HttpServer server, String path, long maxBody, PrintStream log, Answer answer) {
        server.createContext(path, ex -> {
            if (!ex.getRequestMethod().equals("POST")) {
                reply(ex, 405, "use POST");
                return;
            }
            try {
                reply(ex, 200, "application/octet-stream", answer.to(read(ex.getRequestBody(), maxBody)));
            } catch (IllegalArgumentException e) {
                reply(ex, 400, e.getMessage());
            } catch (RuntimeException | OutOfMemoryError e) {
                log.println("gemel worker: failed: " + e);
                reply(ex, 500, "the worker failed; see its log");
            }
        });
    }

    public URI uri() {
        InetSocketAddress a = server.getAddress();
        return URI.create("http://" + a.getHostString() + ":" + a.getPort());
    }

    private static byte[] read(InputStream in, long maxBody) throws IOException {
        byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBody + 1));
        if (body.length > maxBody) throw new IllegalArgumentException("request over " + maxBody + " bytes (--max-body)");
        return body;
    }

    private static void reply(HttpExchange ex, int status, String message) throws IOException {
        reply(ex, status, "text/plain; charset=utf-8", message.getBytes(StandardCharsets.UTF_8));
    }

    private static void reply(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        turns.shutdownNow();
    }
}
