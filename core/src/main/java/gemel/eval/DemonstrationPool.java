package gemel.eval;

import gemel.data.MelExample;
import gemel.features.ImageFeatures;
import gemel.link.Demonstration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The training records that demonstrations are drawn from, with their image features: turns training
 * indices (as {@link gemel.demos.DemoRetriever} and demos files give them) into {@link Demonstration}s
 * whose answer is the record's target. A training image without a feature is an error naming it,
 * unless {@code zeroWhenMissing} (then its feature is all zeros). Features are read once, on first
 * use. Thread-safe.
 */
public final class DemonstrationPool {
    private final List<MelExample> training;
    private final ImageFeatures features;
    private final boolean zeroWhenMissing;
    private final AtomicReferenceArray<float[]> cached; // [training.size()] features read so far

    public DemonstrationPool(List<MelExample> training, ImageFeatures features, boolean zeroWhenMissing) {
        this.training = List.copyOf(training);
        this.features = features;
        this.zeroWhenMissing = zeroWhenMissing;
        this.cached = new AtomicReferenceArray<>(training.size());
    }

    public int size() { return training.size(); }

    public List<MelExample> training() { return training; }

    /** The demonstrations of these training indices, in the given (prompt) order. */
    public List<Demonstration> demonstrations(int[] indices) {
        List<Demonstration> out = new ArrayList<>(indices.length);
        for (int i : indices) {
            if (i < 0 || i >= training.size())
                throw new IllegalArgumentException("demonstration index " + i + " is outside the " + training.size() + " training records");
            MelExample t = training.get(i);
            out.add(new Demonstration(t.text(), t.mention(), feature(i), t.target()));
        }
        return out;
    }

    private float[] feature(int i) {
        float[] f = cached.get(i);
        if (f != null) return f;
        f = features.find(training.get(i).imageKey());
        if (f == null) {
            if (!zeroWhenMissing)
                throw new IllegalArgumentException("training record " + i + " ('" + training.get(i).mention() + "'), shown as a demonstration, has no image feature for '"
                        + training.get(i).imageKey() + "'; give the missing features or choose zero vectors for them");
            f = new float[features.dim()];
        }
        cached.set(i, f);
        return f;
    }
}
