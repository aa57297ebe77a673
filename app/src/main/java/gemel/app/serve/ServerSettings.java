package gemel.app.serve;

import java.time.Duration;

/**
 * How {@link LinkServer} listens and how much it takes on: {@code concurrentLinks} requests link at once
 * (each also spreads its matrix products over the cores), at most {@code queueLimit} more wait for their
 * turn (beyond that: 503), bodies above {@code maxBodyBytes} are refused (413), a batch holds at most
 * {@code maxBatch} mentions, {@code top_k} defaults to {@code defaultTopK} and may not exceed {@code maxTopK}
 * (the beam width), and shutdown waits up to {@code shutdownGrace} for running requests.
 */
public record ServerSettings(String host, int port, int concurrentLinks, int queueLimit, long maxBodyBytes, int maxBatch,
                             int defaultTopK, int maxTopK, Duration shutdownGrace) {
    public ServerSettings {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("a host to bind to is required");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
        if (concurrentLinks < 1) throw new IllegalArgumentException("concurrent links must be >= 1, got " + concurrentLinks);
        if (queueLimit < 0) throw new IllegalArgumentException("--queue must be >= 0, got " + queueLimit);
        if (maxBodyBytes < 1) throw new IllegalArgumentException("--max-body must be >= 1 byte, got " + maxBodyBytes);
        if (maxBatch < 1) throw new IllegalArgumentException("--max-batch must be >= 1, got " + maxBatch);
        if (maxTopK < 1 || defaultTopK < 1 || defaultTopK > maxTopK)
            throw new IllegalArgumentException("--top-k must be in 1.." + maxTopK + " (the beam width), got " + defaultTopK);
        if (shutdownGrace.isNegative()) throw new IllegalArgumentException("the shutdown grace must not be negative");
    }
}
