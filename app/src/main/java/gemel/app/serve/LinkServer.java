package gemel.app.serve;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import gemel.app.LinkSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Entity linking over HTTP on the JDK's built-in server: {@code POST /v1/link}, {@code POST /v1/link/batch},
 * {@code GET /v1/health} and the page at {@code GET /}. Each exchange runs on its own virtual thread; the
 * linking itself goes through a {@link LinkGate} so that only a few requests use the CPU at once and a
 * bounded number wait. Every error reaches the client as JSON {@code {"error", "field"}} with its status;
 * unexpected failures are logged here with their stack trace and answered 500 without one.
 */
public final class LinkServer implements AutoCloseable {
    /** Strict reading: trailing content after the JSON value and repeated keys are errors, not silently dropped. */
    private static final ObjectMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final String PAGE = "/gemel/app/serve/index.html";

    private final LinkSession session;
    private final ServerSettings settings;
    private final PrintStream log;
    private final RequestLinker linker;
    private final LinkGate gate;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpServer server;
    private final byte[] page;
    private volatile boolean closed;

    private LinkServer(LinkSession session, ServerSettings settings, PrintStream log) throws IOException {
        this.session = session;
        this.settings = settings;
        this.log = log;
        this.linker = new RequestLinker(session, JSON);
        this.gate = new LinkGate(settings.concurrentLinks(), settings.queueLimit());
        try (InputStream in = LinkServer.class.getResourceAsStream(PAGE)) {
            if (in == null) throw new IllegalStateException("the page " + PAGE + " is missing from the build");
            this.page = in.readAllBytes();
        }
        try {
            this.server = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 0);
        } catch (BindException e) {
            throw new BindException("cannot listen on " + settings.host() + ":" + settings.port() + ": " + e.getMessage());
        }
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    /** Binds to {@code settings.host():settings.port()} (port 0: any free one) and starts answering. */
    public static LinkServer start(LinkSession session, ServerSettings settings, PrintStream log) throws IOException {
        LinkServer s = new LinkServer(session, settings, log);
        s.server.start();
        return s;
    }

    /** Where the server listens; the port is the one chosen when 0 was asked for. */
    public URI uri() {
        InetSocketAddress a = server.getAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/");
    }

    /**
     * Graceful shutdown: new link requests get 503, running ones get up to the shutdown grace to finish, then the
     * listener and its threads stop. The session stays open (its owner closes it).
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        boolean drained;
        try {
            drained = gate.closeAndDrain(settings.shutdownGrace());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained = false;
        }
        if (!drained) log.println("gemel serve: requests still running after " + settings.shutdownGrace().toSeconds() + " s; stopping anyway");
        server.stop(0);
        executor.close();
    }

    private void handle(HttpExchange exchange) {
        try (exchange) {
            try {
                route(exchange);
            } catch (HttpProblem p) {
                respond(exchange, p.status(), JSON.createObjectNode().put("error", p.getMessage()).put("field", p.field()));
            } catch (IOException e) { // the client went away: nothing to answer
                log.println("gemel serve: " + exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + ": " + e.getMessage());
            } catch (RuntimeException e) {
                log.println("gemel serve: " + exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + " failed:");
                e.printStackTrace(log);
                respond(exchange, 500, JSON.createObjectNode().put("error", "internal error while answering; the server log has the details")
                        .putNull("field"));
            }
        } catch (IOException e) {
            log.println("gemel serve: could not answer " + exchange.getRequestURI().getPath() + ": " + e.getMessage());
        }
    }

    private void route(HttpExchange exchange) throws HttpProblem, IOException {
        String path = exchange.getRequestURI().getPath();
        switch (path) {
            case "/", "/index.html" -> {
                requireMethod(exchange, "GET");
                exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
                exchange.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'");
                send(exchange, 200, page);
            }
            case "/v1/health" -> {
                requireMethod(exchange, "GET");
                respond(exchange, 200, health());
            }
            case "/v1/link" -> {
                requireMethod(exchange, "POST");
                LinkRequest request = LinkRequest.parse(readJson(exchange), "", settings);
                try (LinkGate.Turn turn = gate.enter()) {
                    long start = System.nanoTime();
                    ObjectNode answer = linker.link(request);
                    answer.put("elapsed_ms", Math.round((System.nanoTime() - start) / 1e5) / 10.0);
                    respond(exchange, 200, answer);
                }
            }
            case "/v1/link/batch" -> {
                requireMethod(exchange, "POST");
                List<LinkRequest> requests = batch(readJson(exchange));
                try (LinkGate.Turn turn = gate.enter()) {
                    long start = System.nanoTime();
                    ObjectNode answer = JSON.createObjectNode();
                    ArrayNode results = answer.putArray("results");
                    linker.linkAll(requests).forEach(results::add);
                    answer.put("elapsed_ms", Math.round((System.nanoTime() - start) / 1e5) / 10.0);
                    respond(exchange, 200, answer);
                }
            }
            default -> throw new HttpProblem(404, null, "no such resource: " + path + " (try GET /, GET /v1/health, POST /v1/link, POST /v1/link/batch)");
        }
    }

    private ObjectNode health() {
        ObjectNode node = JSON.createObjectNode().put("ready", !closed).put("model", session.modelName())
                .put("architecture", session.architecture()).put("kb_entities", session.knowledgeBaseSize());
        node.putObject("images").put("by_key", session.hasFeatures() && !session.ignoresImages()).put("upload", session.hasClip())
                .put("ignored", session.ignoresImages());
        node.put("demonstrations", session.demonstrationsPerMention());
        node.put("default_top_k", settings.defaultTopK()).put("max_top_k", settings.maxTopK()).put("max_batch", settings.maxBatch())
                .put("max_body_bytes", settings.maxBodyBytes());
        node.putObject("load").put("linking_or_waiting", gate.admitted()).put("concurrent", settings.concurrentLinks())
                .put("queue_limit", settings.queueLimit());
        return node;
    }

    /** A batch body: a JSON array of link requests, or {@code {"items": [...]}}. */
    private List<LinkRequest> batch(JsonNode body) throws HttpProblem {
        JsonNode items = body.isObject() && body.has("items") && body.size() == 1 ? body.get("items") : body;
        String prefix = items == body ? "" : "items";
        if (!items.isArray()) throw HttpProblem.badRequest("body", "expected a JSON array of {\"text\", \"mention\", ...} objects");
        if (items.isEmpty()) throw HttpProblem.badRequest("body", "the batch is empty");
        if (items.size() > settings.maxBatch())
            throw HttpProblem.badRequest("body", "the batch has " + items.size() + " mentions, at most " + settings.maxBatch() + " are taken");
        List<LinkRequest> out = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) out.add(LinkRequest.parse(items.get(i), prefix + "[" + i + "]", settings));
        return out;
    }

    private static void requireMethod(HttpExchange exchange, String method) throws HttpProblem {
        if (!exchange.getRequestMethod().equals(method)) {
            exchange.getResponseHeaders().set("Allow", method);
            throw new HttpProblem(405, null, exchange.getRequestMethod() + " is not allowed here; use " + method);
        }
    }

    /** The body as JSON: 413 beyond the size limit (checked before reading when the length is declared), 400 when malformed. */
    private JsonNode readJson(HttpExchange exchange) throws HttpProblem, IOException {
        long limit = settings.maxBodyBytes();
        String declared = exchange.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            long length;
            try {
                length = Long.parseLong(declared.strip());
            } catch (NumberFormatException e) {
                throw HttpProblem.badRequest("body", "Content-Length is not a number: " + declared);
            }
            if (length > limit) throw tooLarge(limit);
        }
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        }
        if (body.length > limit) throw tooLarge(limit);
        if (body.length == 0) throw HttpProblem.badRequest("body", "the request body is empty; send JSON");
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null || node.isMissingNode()) throw HttpProblem.badRequest("body", "the request body is empty; send JSON");
            return node;
        } catch (JacksonException e) {
            var at = e.getLocation();
            throw HttpProblem.badRequest("body", "malformed JSON" + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
                    + ": " + e.getOriginalMessage());
        }
    }

    private static HttpProblem tooLarge(long limit) {
        return new HttpProblem(413, "body", "the request body is larger than the limit of " + limit + " bytes");
    }

    private static void respond(HttpExchange exchange, int status, JsonNode body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        send(exchange, status, JSON.writeValueAsBytes(body));
    }

    private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        exchange.getResponseBody().write(body);
    }
}
