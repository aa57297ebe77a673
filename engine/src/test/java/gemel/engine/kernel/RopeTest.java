package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.config.HfConfig;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RopeTest {

    private static HfConfig config(String json) throws Exception {
        return HfConfig.of(Path.of("test/config.json"), new ObjectMapper().readTree(json));
    }

    @Test
    void rotatesHalvesAsComplexNumbers() {
        int headDim = 8, heads = 2, position = 7;
        Rope rope = new Rope(headDim, Rope.defaultFrequencies(headDim, 10000));
        float[] x = TestTensors.gaussian(new Random(4), heads * headDim, 1), y = x.clone();
        rope.apply(y, 0, heads, position);
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < headDim / 2; i++) {
                // (x_i + i x_{i+half}) * e^{i theta}, theta = position * 10000^(-2i/d)
                double theta = position * Math.pow(10000, -2.0 * i / headDim);
                double re = x[h * headDim + i], im = x[h * headDim + i + headDim / 2];
                assertEquals(re * Math.cos(theta) - im * Math.sin(theta), y[h * headDim + i], 1e-5);
                assertEquals(im * Math.cos(theta) + re * Math.sin(theta), y[h * headDim + i + headDim / 2], 1e-5);
            }
        }
    }

    @Test
    void linearScalingDividesFrequencies() throws Exception {
        float[] base = Rope.defaultFrequencies(16, 500000);
        float[] scaled = Rope.fromConfig(config("{\"rope_theta\": 500000, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 4}}"), 16).frequencies();
        for (int i = 0; i < base.length; i++) assertEquals(base[i] / 4, scaled[i], 1e-9 * base[i] + 1e-12);
    }

    @Test
    void llama3ScalingKeepsHighSlowsLowAndBlendsBetween() throws Exception {
        int headDim = 64;
        float[] base = Rope.defaultFrequencies(headDim, 500000);
        float[] f = Rope.fromConfig(config("{\"rope_theta\": 500000, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8,"
                + " \"low_freq_factor\": 1, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 64}}"), headDim).frequencies();
        int kept = 0, slowed = 0, blended = 0;
        for (int i = 0; i < base.length; i++) {
            double wavelen = 2 * Math.PI / base[i];
            if (wavelen < 64 / 4.0) {
                assertEquals(base[i], f[i], "high frequency " + i + " is kept");
                kept++;
            } else if (wavelen > 64) {
                assertEquals(base[i] / 8, f[i], 1e-6 * base[i], "low frequency " + i + " is divided by the factor");
                slowed++;
            } else {
                assertTrue(f[i] < base[i] && f[i] > base[i] / 8, "frequency " + i + " lies between");
                blended++;
            }
        }
        assertTrue(kept > 0 && slowed > 0 && blended > 0, kept + " " + slowed + " " + blended);
    }

    @Test
    void unknownScalingIsAnErrorNamingIt() throws Exception {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Rope.fromConfig(config("{\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 2}}"), 8));
        assertTrue(e.getMessage().contains("yarn"), e.getMessage());
    }
}
