package gemel.features;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Writes image features to an HDF5 file the reference (h5py) reads: one float32 dataset per image,
 * named by its key, of shape {@code [d]} or {@code [1, d]}. A key holding '/' (an image URL) is an
 * HDF5 path, as h5py makes it: intermediate groups are created and empty components dropped, so
 * {@code f[url]} finds the dataset. The file appears atomically: it is written beside the target
 * under a temporary name, then moved over it.
 */
public final class Hdf5FeatureWriter {
    /** How each feature vector is stored. */
    public enum Shape { VECTOR, ROW }

    private Hdf5FeatureWriter() {}

    /** Writes {@code features} (key -> vector, all of one length) to {@code out}. */
    public static void write(Path out, Map<String, float[]> features, Shape shape) {
        int dim = -1;
        Map<String, String> datasets = new HashMap<>(); // HDF5 path -> key
        for (var e : features.entrySet()) {
            String path = String.join("/", components(e.getKey()));
            if (path.isEmpty()) throw new IllegalArgumentException("empty feature key \"" + e.getKey() + "\"");
            String before = datasets.put(path, e.getKey());
            if (before != null) throw new IllegalArgumentException("feature keys \"" + before + "\" and \"" + e.getKey() + "\" name the same HDF5 path " + path);
            if (dim < 0) dim = e.getValue().length;
            else if (e.getValue().length != dim)
                throw new IllegalArgumentException("feature \"" + e.getKey() + "\" has " + e.getValue().length + " values, the others " + dim);
        }
        for (String path : datasets.keySet())
            for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1))
                if (datasets.containsKey(path.substring(0, slash)))
                    throw new IllegalArgumentException("feature key \"" + datasets.get(path.substring(0, slash)) + "\" would be both a dataset and the group holding \""
                            + datasets.get(path) + "\"");
        Path dir = out.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            // a fresh name beside the target (not createTempFile: its owner-only permissions would stick)
            tmp = dir.resolve(out.getFileName() + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
            try (WritableHdfFile file = HdfFile.write(tmp)) {
                Map<String, WritableGroup> groups = new HashMap<>();
                for (var e : features.entrySet()) {
                    String[] parts = components(e.getKey());
                    WritableGroup parent = file;
                    StringBuilder path = new StringBuilder();
                    for (int i = 0; i < parts.length - 1; i++) {
                        path.append('/').append(parts[i]);
                        WritableGroup p = parent;
                        String name = parts[i];
                        parent = groups.computeIfAbsent(path.toString(), k -> p.putGroup(name));
                    }
                    Object data = shape == Shape.ROW ? new float[][] {e.getValue()} : e.getValue();
                    parent.putDataset(parts[parts.length - 1], data);
                }
            }
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": cannot write HDF5 features: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalStateException(out + ": cannot write HDF5 features: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temporary file is named as such; nothing else to undo
                }
            }
        }
    }

    /** The HDF5 path components of a key: split on '/', empty parts dropped (h5py's reading of "a//b"). */
    static String[] components(String key) {
        return java.util.Arrays.stream(key.split("/")).filter(s -> !s.isEmpty()).toArray(String[]::new);
    }
}
