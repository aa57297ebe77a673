package gemel.engine.model;

import gemel.engine.kernel.Attention;
import java.util.Arrays;

/**
 * The {@link KvCache} of the engine's decoders: per layer, one float array of keys,
 * [batch, kvHeads, headDim, ownCapacity] (dimension-major, as {@link Attention.Span} wants them), and
 * one of values, [batch, kvHeads, ownCapacity, headDim]. Each head's positions lie together, so
 * attention streams one run per head (position-major rows 16 KB apart would alias in the caches). A fork keeps a
 * reference to its single-row parent for the positions before the fork (the parent is frozen from
 * then on), stores only what its rows append, and holds as many positions as its parent could.
 */
public final class ArrayKvCache implements KvCache {
    private static final int KEY_RUN = 64; // positions whose keys putPositions writes row by row: their source rows stay in L1
    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private final int batch;
    private final int capacity;              // positions per row, prefix included
    private final ArrayKvCache prefix;       // shared positions [0, prefixLength) of every row, or null
    private final int prefixLength;
    private final int ownCapacity;           // capacity - prefixLength
    private float[][] keys;                  // [layers][batch * kvHeads * headDim * ownCapacity]
    private float[][] values;                // [layers][batch * kvHeads * ownCapacity * headDim]
    private float[][] spareKeys, spareValues; // reorder copies into these, then swaps
    private int length;
    private boolean frozen;

    public ArrayKvCache(int layers, int kvHeads, int headDim, int batch, int capacity) {
        this(layers, kvHeads, headDim, batch, capacity, null);
    }

    private ArrayKvCache(int layers, int kvHeads, int headDim, int batch, int capacity, ArrayKvCache prefix) {
        if (batch < 1 || capacity < 0) throw new IllegalArgumentException("cache of " + batch + " rows x " + capacity + " positions");
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.batch = batch;
        this.capacity = capacity;
        this.prefix = prefix;
        this.prefixLength = prefix == null ? 0 : prefix.length;
        this.ownCapacity = capacity - prefixLength;
        this.length = prefixLength;
        int size;
        try {
            size = Math.multiplyExact(Math.multiplyExact(batch * kvHeads, ownCapacity), headDim);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("cache of " + batch + " rows x " + ownCapacity + " positions x " + kvHeads * headDim
                    + " floats exceeds one array per layer; use fewer rows or positions");
        }
        keys = new float[layers][size];
        values = new float[layers][size];
    }

    @Override
    public int batch() { return batch; }

    @Override
    public int length() { return length; }

    @Override
    public int capacity() { return capacity; }

    public int layers() { return layers; }

    public int kvHeads() { return kvHeads; }

    public int headDim() { return headDim; }

    @Override
    public void truncate(int newLength) {
        checkWritable();
        if (newLength < prefixLength || newLength > length)
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " positions (" + prefixLength
                    + " shared) to " + newLength);
        length = newLength;
    }

    @Override
    public KvCache fork(int rows) {
        if (batch != 1) throw new IllegalStateException("only a single-row cache can be forked; this one has " + batch + " rows");
        frozen = true;
        return new ArrayKvCache(layers, kvHeads, headDim, rows, capacity, this);
    }

    @Override
    public void reorder(int[] sourceRows) {
        checkWritable();
        if (sourceRows.length != batch) throw new IllegalArgumentException("reorder needs " + batch + " source rows, got " + sourceRows.length);
        boolean identity = true;
        for (int i = 0; i < batch; i++) {
            if (sourceRows[i] < 0 || sourceRows[i] >= batch) throw new IllegalArgumentException("reorder: no row " + sourceRows[i] + " in " + batch);
            identity &= sourceRows[i] == i;
        }
        int own = length - prefixLength;
        if (identity || own == 0) return;
        if (spareKeys == null) {
            spareKeys = new float[layers][keys[0].length];
            spareValues = new float[layers][keys[0].length];
        }
        int headSize = ownCapacity * headDim;
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < batch; i++) {
                for (int g = 0; g < kvHeads; g++) {
                    int from = (sourceRows[i] * kvHeads + g) * headSize, to = (i * kvHeads + g) * headSize;
                    System.arraycopy(values[l], from, spareValues[l], to, own * headDim);
                    for (int d = 0; d < headDim; d++)
                        System.arraycopy(keys[l], from + d * ownCapacity, spareKeys[l], to + d * ownCapacity, own);
                }
            }
        }
        float[][] k = keys, v = values;
        keys = spareKeys;
        values = spareValues;
        spareKeys = k;
        spareValues = v;
    }

    /** Throws unless {@code tokens} more positions fit in every row. */
    void requireRoom(int tokens) {
        checkWritable();
        if (length + tokens > capacity)
            throw new IllegalArgumentException("the cache holds " + length + " of " + capacity + " positions; "
                    + tokens + " more do not fit (create it with a larger capacity)");
    }

    /**
     * Stores the keys and values [count, kvHeads * headDim] (position i's at kOff and vOff + i * kvHeads * headDim) of
     * row {@code row} at absolute positions {@code position} .. + count (not yet counted in length). A key goes to
     * headDim rows of its head, so the keys are written a run of {@value #KEY_RUN} positions at a time, each row's run
     * at once: stored position by position, the rows ownCapacity apart thrashed the same cache sets, and a prompt's
     * stores took 2.1-2.4 % of the samples of a profile of OPT-125m's 1,536-token prompts (1.1 % in runs).
     */
    void putPositions(int layer, int row, int position, int count, float[] k, int kOff, float[] v, int vOff) {
        int width = kvHeads * headDim, p = position - prefixLength;
        float[] keyRows = keys[layer], valueRows = values[layer];
        for (int g = 0; g < kvHeads; g++) {
            int head = (row * kvHeads + g) * ownCapacity * headDim;
            for (int i = 0; i < count; i++) System.arraycopy(v, vOff + i * width + g * headDim, valueRows, head + (p + i) * headDim, headDim);
            for (int i0 = 0; i0 < count; i0 += KEY_RUN) {
                int n = Math.min(KEY_RUN, count - i0);
                for (int d = 0; d < headDim; d++) {
                    int to = head + d * ownCapacity + p + i0, from = kOff + i0 * width + g * headDim + d;
                    for (int i = 0; i < n; i++) keyRows[to + i] = k[from + i * width];
                }
            }
        }
    }

    /** {@link #putPositions} of one position and key/value head {@code g} alone. */
    void putHead(int layer, int row, int g, int position, float[] k, int kOff, float[] v, int vOff) {
        int p = position - prefixLength, head = (row * kvHeads + g) * ownCapacity * headDim;
        System.arraycopy(v, vOff + g * headDim, values[layer], head + p * headDim, headDim);
        for (int d = 0; d < headDim; d++) keys[layer][head + d * ownCapacity + p] = k[kOff + g * headDim + d];
    }

    /** Counts {@code tokens} positions written by {@link #put} in every layer and row. */
    void advance(int tokens) {
        length += tokens;
    }

    /** The spans holding positions [0, positions) of key/value head {@code head} of {@code row} at {@code layer}: the shared prefix first. */
    Attention.Span[] spans(int layer, int row, int head, int positions) {
        int at = (row * kvHeads + head) * ownCapacity * headDim;
        Attention.Span own = new Attention.Span(keys[layer], at, ownCapacity, values[layer], at, headDim, positions - prefixLength);
        if (prefix == null) return new Attention.Span[] {own};
        Attention.Span[] shared = prefix.spans(layer, 0, head, prefixLength);
        Attention.Span[] all = Arrays.copyOf(shared, shared.length + 1);
        all[shared.length] = own;
        return all;
    }

    private void checkWritable() {
        if (frozen) throw new IllegalStateException("this cache has been forked: its positions are shared read-only by the fork");
    }
}
