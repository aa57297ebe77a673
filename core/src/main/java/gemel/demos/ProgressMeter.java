package gemel.demos;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/** Prints how far a long job is: items done, rate and time left; at most one line every few seconds. */
public final class ProgressMeter {
    private static final long INTERVAL_NANOS = 3_000_000_000L;

    private final PrintStream out;
    private final String what;
    private final long total;
    private final long start = System.nanoTime();
    private long lastPrint = start;
    private long done;

    /** {@code out} may be null for silence. */
    public ProgressMeter(PrintStream out, String what, long total) {
        this.out = out;
        this.what = what;
        this.total = total;
    }

    public synchronized void advance(long items) {
        done += items;
        long now = System.nanoTime();
        if (done >= total || now - lastPrint >= INTERVAL_NANOS) {
            lastPrint = now;
            print(now);
        }
    }

    private void print(long now) {
        if (out == null) return;
        double seconds = Math.max(1e-9, (now - start) / 1e9);
        double rate = done / seconds;
        String eta = rate > 0 ? format(Duration.ofSeconds((long) ((total - done) / rate))) : "?";
        out.printf(Locale.ROOT, "%s: %,d/%,d (%.1f%%), %.1f/s, ETA %s%n", what, done, total, 100.0 * done / Math.max(1, total), rate, eta);
    }

    private static String format(Duration d) {
        return d.toHours() > 0 ? String.format(Locale.ROOT, "%dh%02dm", d.toHours(), d.toMinutesPart())
                : String.format(Locale.ROOT, "%dm%02ds", d.toMinutes(), d.toSecondsPart());
    }
}
