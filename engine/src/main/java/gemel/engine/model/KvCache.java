package gemel.engine.model;

/**
 * Keys and values of the positions a model has seen, per batch row. Beams share a prompt: after
 * prefilling one row, {@link #fork} makes {@code rows} rows that all read that prefix without
 * copying it, and {@link #reorder} then copies only what the rows appended since.
 */
public interface KvCache {

    int batch();

    /** Positions held per row (the same for every row; padding counts). */
    int length();

    int capacity();

    /** Drops positions from {@code length} on. */
    void truncate(int length);

    /**
     * A cache of {@code rows} rows sharing this cache's (single-row) content as a read-only prefix,
     * with the same capacity (the prefix counts). This cache is read-only from then on.
     */
    KvCache fork(int rows);

    /** Row {@code i} becomes a copy of old row {@code sourceRows[i]} (same number of rows). */
    void reorder(int[] sourceRows);
}
