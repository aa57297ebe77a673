package gemel.features;

import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The reference's image-feature file ({@code clip_vit_large_patch14_1024.hdf5}) read with jhdf: one
 * dataset per image, shaped [d] or [1, d], float32, float16 or float64 (converted to float32). The whole
 * tree is walked once at open, so URL keys that h5py split into nested groups are found under their full
 * path. Vectors are read on demand.
 */
public final class Hdf5ImageFeatures implements ImageFeatures {
    private final Path file;
    private final HdfFile hdf;
    private final List<Dataset> datasets;   // row -> dataset
    private final List<String> keys;        // row -> full path without the leading slash
    private final FeatureKeyIndex index;
    private final int dim;

    private Hdf5ImageFeatures(Path file, HdfFile hdf, List<Dataset> datasets, List<String> keys, int dim) {
        this.file = file;
        this.hdf = hdf;
        this.datasets = datasets;
        this.keys = List.copyOf(keys);
        this.index = new FeatureKeyIndex(keys, file.toString());
        this.dim = dim;
    }

    public static Hdf5ImageFeatures open(Path file) throws IOException {
        HdfFile hdf;
        try {
            hdf = new HdfFile(file);
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a readable HDF5 file: " + e.getMessage(), e);
        }
        try {
            List<Dataset> datasets = new ArrayList<>();
            List<String> keys = new ArrayList<>();
            collect(hdf, datasets, keys);
            if (datasets.isEmpty()) throw new IllegalArgumentException(file + ": holds no datasets");
            int dim = -1;
            for (int i = 0; i < datasets.size(); i++) {
                int d = vectorLength(file, keys.get(i), datasets.get(i));
                if (dim < 0) dim = d;
                else if (d != dim)
                    throw new IllegalArgumentException(file + ": dataset '" + keys.get(i) + "' has " + d
                            + " values, '" + keys.get(0) + "' has " + dim);
            }
            return new Hdf5ImageFeatures(file, hdf, datasets, keys, dim);
        } catch (RuntimeException e) {
            hdf.close();
            throw e;
        }
    }

    private static void collect(Group group, List<Dataset> datasets, List<String> keys) {
        for (Node node : group) {
            if (node instanceof Group g) collect(g, datasets, keys);
            else if (node instanceof Dataset d) {
                datasets.add(d);
                keys.add(d.getPath().startsWith("/") ? d.getPath().substring(1) : d.getPath());
            }
        }
    }

    /** d for a dataset shaped [d] or [1, d] of floats; an error naming it otherwise. */
    private static int vectorLength(Path file, String key, Dataset d) {
        int[] dims = d.getDimensions();
        Class<?> type = d.getJavaType();
        if (type != float.class && type != double.class)
            throw new IllegalArgumentException(file + ": dataset '" + key + "' holds " + type.getSimpleName()
                    + ", expected float16, float32 or float64");
        if (dims.length == 1) return dims[0];
        if (dims.length == 2 && dims[0] == 1) return dims[1];
        throw new IllegalArgumentException(file + ": dataset '" + key + "' has shape " + Arrays.toString(dims)
                + ", expected [d] or [1, d]");
    }

    @Override
    public int dim() { return dim; }

    @Override
    public int size() { return datasets.size(); }

    /** Stored keys (dataset paths without the leading slash), in file order. */
    public List<String> keys() { return keys; }

    @Override
    public float[] find(String key) {
        int row = index.row(key);
        if (row < 0) return null;
        Object flat;
        synchronized (hdf) {   // jhdf shares one channel per file
            flat = datasets.get(row).getDataFlat();
        }
        return switch (flat) {
            case float[] f -> f.clone();
            case double[] ds -> {
                float[] f = new float[ds.length];
                for (int i = 0; i < ds.length; i++) f[i] = (float) ds[i];
                yield f;
            }
            default -> throw new IllegalStateException(file + ": dataset for '" + key + "' read as "
                    + flat.getClass().getSimpleName());
        };
    }

    @Override
    public void close() { hdf.close(); }
}
