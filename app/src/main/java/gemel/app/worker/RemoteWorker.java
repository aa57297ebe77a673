package gemel.app.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.data.KnowledgeBase;
import gemel.engine.generate.Hypothesis;
import gemel.engine.grad.InputGradients;
import gemel.link.DecodingOptions;
import gemel.link.NameSearch;
import gemel.train.ExampleGradients;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * A {@code gemel worker} on another machine, as a source of gradients and, when it holds the knowledge base, of beam
 * searches. A worker that cannot be reached, or fails inside (HTTP 5xx), is an I/O error, so that the trainer's pools
 * ({@link gemel.train.GradientPool}, {@link gemel.link.SearchPool}) give its work to another; a request it refuses (4xx)
 * is this trainer's error and ends the step.
 */
public final class RemoteWorker implements ExampleGradients, NameSearch {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final URI base;
    private final Duration timeout;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private int vectorBits;
    private String knowledgeBase;

    private RemoteWorker(URI base, Duration timeout) {
        this.base = base;
        this.timeout = timeout;
    }

    /** The width of the vectors the worker computes with: sums of other widths differ in their last bits. */
    public int vectorBits() { return vectorBits; }

    /** Which knowledge base the worker searches over ({@link ModelIdentity#of(KnowledgeBase)}), or null for none. */
    public String knowledgeBase() { return knowledgeBase; }

    /**
     * The worker at {@code base} (http://host:port), once it says it holds the model of identity {@code identity} and
     * inputs of {@code inputWidth} values; a worker of another model, or none there, is an error naming it. A request
     * not answered within {@code timeout} (a worker stuck rather than gone) is an I/O error, as a lost worker's.
     */
    public static RemoteWorker connect(URI base, String identity, int inputWidth, Duration timeout) throws IOException {
        RemoteWorker worker = new RemoteWorker(base, timeout);
        JsonNode model;
        try {
            HttpResponse<String> r = worker.client.send(HttpRequest.newBuilder(base.resolve("/v1/model")).GET().build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() != 200) throw new IOException("HTTP " + r.statusCode() + " for /v1/model: " + r.body());
            model = JSON.readTree(r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (IOException e) {
            throw new IOException("worker " + base + " does not answer as a gemel worker: " + reason(e), e);
        }
        if (!identity.equals(model.path("identity").asText()) || model.path("input_width").asInt() != inputWidth)
            throw new IllegalArgumentException("worker " + base + " holds another model (" + model.path("architecture").asText() + ", identity "
                    + model.path("identity").asText() + "; this one: " + identity + "): give every worker the same checkpoint");
        worker.vectorBits = model.path("vector_bits").asInt();
        worker.knowledgeBase = model.path("kb").isTextual() ? model.path("kb").asText() : null;
        return worker;
    }

    @Override
    public InputGradients.Result compute(float[] embeds, int tokens, int[] labels) throws IOException {
        return WorkerWire.readAnswer(post("/v1/gradients", WorkerWire.request(embeds, tokens, labels)), embeds.length);
    }

    @Override
    public List<Hypothesis> search(float[] embeddings, int promptLength, DecodingOptions decoding) throws IOException {
        return WorkerWire.readHypotheses(post("/v1/search", WorkerWire.search(embeddings, promptLength, decoding)));
    }

    /** The answer's body: a 5xx or no answer is an I/O error (the machine's), another refusal an IllegalStateException. */
    private byte[] post(String path, byte[] body) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/octet-stream").timeout(timeout)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        HttpResponse<byte[]> r;
        try {
            r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (IOException e) {
            throw new IOException(reason(e), e);
        }
        if (r.statusCode() >= 500) throw new IOException("HTTP " + r.statusCode() + ": " + new String(r.body(), StandardCharsets.UTF_8));
        if (r.statusCode() != 200)
            throw new IllegalStateException("refused the request (HTTP " + r.statusCode() + "): " + new String(r.body(), StandardCharsets.UTF_8));
        return r.body();
    }

    @Override
    public String name() { return "worker " + base; }

    /** What went wrong, for a log line: some I/O errors (a refused connection) carry no message. */
    private static String reason(IOException e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName() + (e.getCause() != null ? ": " + e.getCause() : "");
    }
}
