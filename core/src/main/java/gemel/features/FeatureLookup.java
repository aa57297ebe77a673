package gemel.features;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The feature vectors of a list of items (records) by their image keys, with missing keys handled by a
 * {@link MissingFeaturePolicy}.
 *
 * @param keptIndices indices into the input list of the items kept, ascending (all of them unless
 *                    {@link MissingFeaturePolicy#SKIP_RECORD} left some out)
 * @param vectors     one vector per kept item, [kept][dim]
 * @param missingKeys distinct image keys that had no vector, in order of first appearance
 * @param missingItems number of items whose key had no vector
 */
public record FeatureLookup(int[] keptIndices, float[][] vectors, List<String> missingKeys, int missingItems) {
    private static final int KEYS_SHOWN = 5;

    public static <T> FeatureLookup resolve(ImageFeatures features, List<T> items, Function<T, String> imageKey,
                                            MissingFeaturePolicy policy) {
        List<Integer> kept = new ArrayList<>(items.size());
        List<float[]> vectors = new ArrayList<>(items.size());
        Set<String> missing = new LinkedHashSet<>();
        int missingItems = 0;
        for (int i = 0; i < items.size(); i++) {
            String key = imageKey.apply(items.get(i));
            float[] v = features.find(key);
            if (v == null) {
                missing.add(key);
                missingItems++;
                if (policy == MissingFeaturePolicy.SKIP_RECORD) continue;
                v = new float[features.dim()];
            }
            kept.add(i);
            vectors.add(v);
        }
        if (policy == MissingFeaturePolicy.FAIL && missingItems > 0) {
            List<String> first = new ArrayList<>(missing).subList(0, Math.min(KEYS_SHOWN, missing.size()));
            throw new IllegalArgumentException(missingItems + " of " + items.size() + " records (" + missing.size()
                    + " distinct images) have no image feature, e.g. " + first
                    + "; choose what to do with them (skip the record or use a zero vector)");
        }
        return new FeatureLookup(kept.stream().mapToInt(Integer::intValue).toArray(),
                vectors.toArray(new float[0][]), List.copyOf(missing), missingItems);
    }
}
