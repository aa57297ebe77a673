package gemel.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdamWTest {

    @Test
    void firstStepMatchesTheClosedForm() {
        // After one step the bias corrections cancel: p1 = p0 (1 - lr wd) - lr g / (|g| + eps).
        float[] w = {0.5f, -2f, 3f};
        float[] b = {1f};
        float[] gw = {0.1f, -4f, 0f};
        float[] gb = {-0.25f};
        double lr = 0.1, wd = 0.01, eps = 1e-6;
        AdamW adam = new AdamW(new AdamW.Settings(0.9, 0.999, eps, wd),
                List.of(new TrainableParameter("w", w, true), new TrainableParameter("b", b, false)));
        adam.update(new float[][] {gw.clone(), gb.clone()}, lr);
        float[] w0 = {0.5f, -2f, 3f};
        for (int i = 0; i < 3; i++)
            assertEquals(w0[i] * (1 - lr * wd) - lr * gw[i] / (Math.abs(gw[i]) + eps), w[i], 1e-6, "w[" + i + "]");
        assertEquals(1 - lr * gb[0] / (Math.abs(gb[0]) + eps), b[0], 1e-6, "bias is not decayed");
        assertEquals(1, adam.step());
    }

    @Test
    void followsTorchAdamWOverFiveSteps() throws Exception {
        JsonNode ref;
        try (InputStream in = AdamWTest.class.getResourceAsStream("/train/adamw_reference.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        float[] w = floats(ref.get("initial").get("weight"));
        float[] b = floats(ref.get("initial").get("bias"));
        AdamW adam = new AdamW(new AdamW.Settings(0.9, 0.999, 1e-6, 0.01),
                List.of(new TrainableParameter("weight", w, true), new TrainableParameter("bias", b, false)));
        int step = 0;
        for (JsonNode s : ref.get("steps")) {
            adam.update(new float[][] {floats(s.get("grad_weight")), floats(s.get("grad_bias"))}, s.get("lr").asDouble());
            step++;
            float[] ew = floats(s.get("weight")), eb = floats(s.get("bias"));
            for (int i = 0; i < w.length; i++) assertEquals(ew[i], w[i], 2e-6, "step " + step + " weight[" + i + "]");
            for (int i = 0; i < b.length; i++) assertEquals(eb[i], b[i], 2e-6, "step " + step + " bias[" + i + "]");
        }
    }

    @Test
    void restoredStateContinuesIdentically() {
        float[] a = {1f, 2f, -3f}, c = a.clone();
        AdamW first = new AdamW(AdamW.Settings.reference(), List.of(new TrainableParameter("p", a, true)));
        first.update(new float[][] {{0.3f, -0.1f, 2f}}, 0.05);
        AdamW.State saved = first.state();
        System.arraycopy(a, 0, c, 0, a.length);
        AdamW second = new AdamW(AdamW.Settings.reference(), List.of(new TrainableParameter("p", c, true)));
        second.restore(saved);
        first.update(new float[][] {{-1f, 0.5f, 0.25f}}, 0.05);
        second.update(new float[][] {{-1f, 0.5f, 0.25f}}, 0.05);
        for (int i = 0; i < a.length; i++) assertEquals(Float.floatToIntBits(a[i]), Float.floatToIntBits(c[i]));
        assertEquals(2, second.step());
    }

    @Test
    void mismatchedGradientIsAnErrorNamingTheParameter() {
        AdamW adam = new AdamW(AdamW.Settings.reference(), List.of(new TrainableParameter("mapper.weight", new float[4], true)));
        var e = assertThrows(IllegalArgumentException.class, () -> adam.update(new float[][] {new float[3]}, 0.1));
        assertEquals(true, e.getMessage().contains("mapper.weight"));
    }

    static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) array.get(i).asDouble();
        return out;
    }
}
