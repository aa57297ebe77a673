package gemel.features;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps image keys to row numbers, forgiving the two ways keys differ between the data and feature files:
 * a missing or extra file extension ({@code 1097} vs {@code 1097.jpg}), and URL slashes that h5py turned
 * into nested groups ({@code https://a/b.jpg} is stored as {@code https:/a/b.jpg}). An exact match wins;
 * otherwise keys are compared without the extension of their last path segment. Two stored keys with the
 * same stem ({@code a.jpg}, {@code a.png}) make that stem ambiguous: looking it up is an error.
 */
final class FeatureKeyIndex {
    private static final int AMBIGUOUS = -1;

    private final Map<String, Integer> exact;
    private final Map<String, Integer> byStem;
    private final Map<String, String> ambiguousExample;

    FeatureKeyIndex(List<String> keys, String source) {
        exact = new HashMap<>(keys.size() * 2);
        byStem = new HashMap<>(keys.size() * 2);
        ambiguousExample = new HashMap<>();
        for (int row = 0; row < keys.size(); row++) {
            String key = normalize(keys.get(row));
            Integer before = exact.putIfAbsent(key, row);
            if (before != null)
                throw new IllegalArgumentException(source + ": image key '" + keys.get(row) + "' is stored twice");
            String stem = stem(key);
            Integer other = byStem.putIfAbsent(stem, row);
            if (other != null && other != row) {
                if (other != AMBIGUOUS) ambiguousExample.put(stem, keys.get(other) + "' and '" + keys.get(row));
                byStem.put(stem, AMBIGUOUS);
            }
        }
    }

    /** The row of {@code key}, or -1 when absent. */
    int row(String key) {
        String k = normalize(key);
        Integer row = exact.get(k);
        if (row != null) return row;
        String stem = stem(k);
        row = byStem.get(stem);
        if (row == null) return -1;
        if (row == AMBIGUOUS)
            throw new IllegalArgumentException("image key '" + key + "' matches several stored keys ('"
                    + ambiguousExample.get(stem) + "'): give the extension");
        return row;
    }

    /** Collapses repeated slashes and drops a leading one, as HDF5 paths do. */
    static String normalize(String key) {
        String k = key;
        while (k.contains("//")) k = k.replace("//", "/");
        return k.startsWith("/") ? k.substring(1) : k;
    }

    /** The key without the extension of its last path segment ({@code a/b.jpg} -> {@code a/b}). */
    static String stem(String key) {
        int slash = key.lastIndexOf('/');
        int dot = key.lastIndexOf('.');
        return dot > slash + 1 ? key.substring(0, dot) : key;
    }
}
