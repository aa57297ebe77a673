package gemel.batch;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One of {@code count} parts of a long job that separate machines (or processes) run: it holds record k of the
 * whole when k % count == index, so that every part gets records from the whole file (a file sorted by
 * length or source spreads evenly) and the parts together hold each record once. {@code 0/1} is the whole.
 */
public record Shard(int index, int count) {
    private static final Pattern FORM = Pattern.compile("(\\d+)/(\\d+)");
    public static final Shard WHOLE = new Shard(0, 1);

    public Shard {
        if (count < 1 || index < 0 || index >= count)
            throw new IllegalArgumentException("shard " + index + "/" + count + ": expected I/N with 0 <= I < N");
    }

    /** "I/N", as {@link #toString} writes it. */
    public static Shard parse(String text) {
        Matcher m = FORM.matcher(text.strip());
        if (!m.matches()) throw new IllegalArgumentException("shard '" + text + "': expected I/N, e.g. 0/4 for the first of four");
        try {
            return new Shard(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("shard '" + text + "': numbers too large", e);
        }
    }

    /** Whether record {@code k} of the whole evaluation is this shard's. */
    public boolean holds(int k) { return k % count == index; }

    /** How many of the whole evaluation's {@code records} are this shard's. */
    public int size(int records) { return records <= index ? 0 : (records - index + count - 1) / count; }

    @Override
    public String toString() { return index + "/" + count; }
}
