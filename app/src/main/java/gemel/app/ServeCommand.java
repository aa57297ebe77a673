package gemel.app;

import gemel.app.serve.LinkServer;
import gemel.app.serve.ServerSettings;
import gemel.engine.vision.ImageDecoder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gemel serve}: the linker as an HTTP service with a small web page, until interrupted (Ctrl-C, SIGTERM). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Link mentions over HTTP: POST /v1/link {text, mention, image_key | image_base64, top_k?}, POST /v1/link/batch [...],",
                "GET /v1/health, and a page at GET / to try it. --parallel requests link at once, --queue more wait, the rest get 503."})
final class ServeCommand implements Callable<Integer> {
    /** Largest image the server decodes: Pillow's own warning limit (a bigger upload is likely a decompression bomb). */
    private static final long MAX_IMAGE_PIXELS = ImageDecoder.PILLOW_MAX_IMAGE_PIXELS;

    @Mixin
    LinkerOptions options;

    @Option(names = "--clip", description = "CLIP folder (config.json, preprocessor_config.json, weights): uploaded images (image_base64) are "
            + "encoded here; without it only image keys of --features are taken")
    Path clip;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on (default: ${DEFAULT-VALUE}, this machine only)")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port to listen on, 0 for any free one (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--queue", defaultValue = "32", description = "requests that may wait for their turn beyond --parallel; more get 503 (default: ${DEFAULT-VALUE})")
    int queue;

    @Option(names = "--max-body", defaultValue = "16777216", description = "largest request body in bytes; larger gets 413 (default: ${DEFAULT-VALUE})")
    long maxBody;

    @Option(names = "--max-batch", defaultValue = "64", description = "most mentions in one batch request (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--shutdown-grace", defaultValue = "30", description = "seconds running requests get to finish on shutdown (default: ${DEFAULT-VALUE})")
    int shutdownGrace;

    @Override
    public Integer call() { return CommandErrors.guarded("serve", this::serve); }

    /** The server settings of these options; checked before anything is loaded. */
    ServerSettings settings() {
        if (options.topK > options.beams)
            throw new IllegalArgumentException("--top-k must be at most --beams (" + options.beams + "), got " + options.topK);
        return new ServerSettings(host, port, options.parallel, queue, maxBody, maxBatch, options.topK, options.beams,
                Duration.ofSeconds(shutdownGrace));
    }

    /** The linker and its inputs; the linker returns every beam and each request's top_k picks the best of them. */
    LinkSession openSession() throws IOException {
        return LinkSession.open(options, clip, new ImageDecoder(MAX_IMAGE_PIXELS), options.beams, System.err);
    }

    private void serve() throws IOException {
        ServerSettings settings = settings();
        try (LinkSession session = openSession()) {
            LinkServer server = LinkServer.start(session, settings, System.err);
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                System.err.println("gemel serve: shutting down");
                server.close();
                stopped.countDown();
            }, "gemel-serve-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            System.out.println("gemel serve: listening on " + server.uri() + " (Ctrl-C to stop)");
            System.out.flush();
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                server.close();
            }
        }
    }
}
