package gemel.features;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Precomputed image feature vectors (CLIP's pooled output, 1024-d for ViT-L/14), looked up by the
 * image key of a record: its URL or file name. Keys match with or without the file extension, and a
 * URL matches the way h5py stored it (repeated slashes collapsed). Implementations are safe to read from
 * several threads.
 */
public interface ImageFeatures extends AutoCloseable {
    /** Length of every vector. */
    int dim();

    /** Number of stored vectors. */
    int size();

    /** A fresh copy of the vector stored for {@code key}, or null when there is none. */
    float[] find(String key);

    @Override
    void close() throws IOException;

    /**
     * Opens a feature file by its extension: {@code .hdf5} / {@code .h5} (the reference's HDF5, via jhdf)
     * or {@value FeatureStore#EXTENSION} (the project's own memory-mapped store); or a folder of such files, read as one
     * (the parts that {@code gemel features --shard} writes on several machines).
     */
    static ImageFeatures open(Path file) throws IOException {
        if (Files.isDirectory(file)) return FeatureParts.open(file);
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".hdf5") || name.endsWith(".h5")) return Hdf5ImageFeatures.open(file);
        if (name.endsWith(FeatureStore.EXTENSION)) return FeatureStore.open(file);
        throw new IllegalArgumentException(file + ": unknown image-feature format (expected .hdf5, .h5 or "
                + FeatureStore.EXTENSION + ")");
    }
}
