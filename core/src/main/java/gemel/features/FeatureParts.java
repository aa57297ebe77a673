package gemel.features;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The feature files of a folder read as one: what {@code gemel features --shard I/N} wrote on several machines, each
 * part's keys its own. Every part must hold vectors of one length; a key found in two parts is an error naming both,
 * as it would make the answer depend on the order the parts are asked in.
 */
final class FeatureParts implements ImageFeatures {
    private final Path folder;
    private final List<Path> files;
    private final List<ImageFeatures> parts;
    private final int dim, size;

    private FeatureParts(Path folder, List<Path> files, List<ImageFeatures> parts) {
        this.folder = folder;
        this.files = files;
        this.parts = parts;
        this.dim = parts.get(0).dim();
        int total = 0;
        for (int i = 0; i < parts.size(); i++) {
            if (parts.get(i).dim() != dim)
                throw new IllegalArgumentException(files.get(i) + " holds vectors of " + parts.get(i).dim() + " values, " + files.get(0) + " of " + dim);
            total += parts.get(i).size();
        }
        this.size = total;
    }

    /** Every .hdf5, .h5 and {@value FeatureStore#EXTENSION} file directly in {@code folder}, in name order. */
    static FeatureParts open(Path folder) throws IOException {
        List<Path> files;
        try (Stream<Path> listed = Files.list(folder)) {
            files = listed.filter(Files::isRegularFile).filter(FeatureParts::isFeatureFile).sorted().toList();
        }
        if (files.isEmpty())
            throw new IllegalArgumentException(folder + ": no feature files (.hdf5, .h5, " + FeatureStore.EXTENSION + ") in this folder");
        List<ImageFeatures> parts = new ArrayList<>();
        try {
            for (Path f : files) parts.add(ImageFeatures.open(f));
            return new FeatureParts(folder, files, parts);
        } catch (IOException | RuntimeException e) {
            for (ImageFeatures p : parts) {
                try {
                    p.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static boolean isFeatureFile(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".hdf5") || name.endsWith(".h5") || name.endsWith(FeatureStore.EXTENSION);
    }

    @Override
    public int dim() { return dim; }

    @Override
    public int size() { return size; }

    @Override
    public float[] find(String key) {
        float[] found = null;
        int where = -1;
        for (int i = 0; i < parts.size(); i++) {
            float[] v = parts.get(i).find(key);
            if (v == null) continue;
            if (found != null)
                throw new IllegalStateException(folder + ": the image '" + key + "' has features in both " + files.get(where).getFileName()
                        + " and " + files.get(i).getFileName() + "; keep it in one part");
            found = v;
            where = i;
        }
        return found;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (ImageFeatures p : parts) {
            try {
                p.close();
            } catch (IOException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }
}
