package gemel.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Hdf5FeatureWriterTest {

    private static Map<String, float[]> features(int count, int dim) {
        Random rnd = new Random(1);
        Map<String, float[]> m = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            float[] v = new float[dim];
            for (int j = 0; j < dim; j++) v[j] = (float) rnd.nextGaussian();
            m.put(i == 0 ? "https://upload.wikimedia.org/wikipedia/commons/a/ab/Some_Photo.jpg" : "img" + i + ".v2", v);
        }
        return m;
    }

    @Test
    void writesVectorsReadBackByJhdf(@TempDir Path tmp) throws Exception {
        Map<String, float[]> f = features(50, 1024);
        Path out = tmp.resolve("feat.h5");
        Hdf5FeatureWriter.write(out, f, Hdf5FeatureWriter.Shape.VECTOR);
        try (HdfFile h = new HdfFile(out)) {
            for (var e : f.entrySet()) {
                Dataset d = h.getDatasetByPath(e.getKey().replaceAll("/+", "/"));
                assertArrayEquals(new int[] {1024}, d.getDimensions(), e.getKey());
                assertEquals(float.class, d.getJavaType());
                assertArrayEquals(e.getValue(), (float[]) d.getData(), e.getKey());
            }
        }
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.count(), "no temporary file left beside the output");
        }
    }

    @Test
    void writesRowsAndReplacesAnExistingFile(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("feat.h5");
        Files.writeString(out, "old");
        Map<String, float[]> f = features(3, 8);
        Hdf5FeatureWriter.write(out, f, Hdf5FeatureWriter.Shape.ROW);
        try (HdfFile h = new HdfFile(out)) {
            Dataset d = h.getDatasetByPath("img2.v2");
            assertArrayEquals(new int[] {1, 8}, d.getDimensions());
            assertArrayEquals(f.get("img2.v2"), ((float[][]) d.getData())[0]);
        }
    }

    @Test
    void badInputLeavesNothingBehind(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("feat.h5");
        Map<String, float[]> f = new LinkedHashMap<>();
        f.put("a", new float[4]);
        f.put("b", new float[5]);
        assertThrows(IllegalArgumentException.class, () -> Hdf5FeatureWriter.write(out, f, Hdf5FeatureWriter.Shape.VECTOR));
        assertThrows(IllegalArgumentException.class, () -> Hdf5FeatureWriter.write(out, Map.of("//", new float[2]), Hdf5FeatureWriter.Shape.VECTOR));
        Map<String, float[]> same = new LinkedHashMap<>();
        same.put("http://x/a.jpg", new float[2]);
        same.put("http:/x/a.jpg", new float[2]);
        assertThrows(IllegalArgumentException.class, () -> Hdf5FeatureWriter.write(out, same, Hdf5FeatureWriter.Shape.VECTOR));
        Map<String, float[]> nested = new LinkedHashMap<>();
        nested.put("x/a", new float[2]);
        nested.put("x/a/b", new float[2]);
        assertThrows(IllegalArgumentException.class, () -> Hdf5FeatureWriter.write(out, nested, Hdf5FeatureWriter.Shape.VECTOR));
        assertFalse(Files.exists(out));
        try (var files = Files.list(tmp)) {
            assertEquals(0, files.count());
        }
    }
}
