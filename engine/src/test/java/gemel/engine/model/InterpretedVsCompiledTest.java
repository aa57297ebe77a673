package gemel.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import gemel.engine.tensor.DType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The same query gives bit-identical logits whether the kernels run interpreted (a JVM started with
 * -Xint, as the first calls of any run are) or compiled (this JVM after many calls): beam scores must
 * not depend on how long the process has been running.
 */
class InterpretedVsCompiledTest {
    private static final int WARM_UP_CALLS = 200;

    private static List<Supplier<CausalLM>> models() {
        return List.of(
                () -> TinyModels.opt(true, TinyModels.HIDDEN, DType.F32),
                () -> TinyModels.opt(false, 16, DType.F16),
                () -> TinyModels.llama("LlamaForCausalLM", DType.BF16),
                () -> TinyModels.llama("Qwen2ForCausalLM", DType.F32));
    }

    /**
     * One line of hex fp32 bit patterns per model: a prompt of four rows, two left-padded (long enough for
     * vector softmax lanes), then a step of one token each, all logits.
     */
    private static List<String> logitBits() {
        List<String> lines = new ArrayList<>();
        for (Supplier<CausalLM> model : models()) {
            try (CausalLM m = model.get()) {
                int tokens = 33, batch = 4; // 132 rows: the prompt takes MatMul's panel path
                int[] ids = new int[batch * tokens], mask = new int[batch * (tokens + 1)];
                for (int i = 0; i < ids.length; i++) ids[i] = 3 + (i * 7919) % (TinyModels.VOCAB - 3);
                for (int b = 0; b < batch; b++) {
                    for (int j = 0; j <= tokens; j++) mask[b * (tokens + 1) + j] = b % 2 == 1 && j < 5 ? 0 : 1; // odd rows: five pads
                }
                int[] promptMask = new int[batch * tokens];
                for (int b = 0; b < batch; b++) System.arraycopy(mask, b * (tokens + 1), promptMask, b * tokens, tokens);
                KvCache cache = m.newCache(batch, tokens + 1);
                float[] prompt = m.forward(new DecoderInput(DecoderConsistencyTest.embed(m, ids), batch, tokens, promptMask, null), cache, null);
                float[] step = m.forward(new DecoderInput(DecoderConsistencyTest.embed(m, 11, 17, 23, 29), batch, 1, mask, null), cache, null);
                StringBuilder line = new StringBuilder(m.shape().architecture());
                for (float[] logits : new float[][] {prompt, step}) {
                    for (float v : logits) line.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(v)));
                }
                lines.add(line.toString());
            }
        }
        return lines;
    }

    /** Run in a -Xint JVM by the test: prints {@link #logitBits}. */
    public static void main(String[] args) {
        logitBits().forEach(System.out::println);
    }

    @Test
    void interpretedAndCompiledKernelsGiveTheSameBits() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(javaBinary(), "-Xint", "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), InterpretedVsCompiledTest.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String interpreted = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) p.destroyForcibly();
        assertEquals(0, p.exitValue(), "the -Xint run failed");
        for (int i = 0; i < WARM_UP_CALLS; i++) logitBits(); // hot enough for the JIT to compile the kernels
        List<String> compiled = logitBits();
        List<String> fromInterpreter = interpreted.lines().toList();
        assertEquals(compiled.size(), fromInterpreter.size(), "models printed by the -Xint run");
        for (int i = 0; i < compiled.size(); i++) {
            String[] a = fromInterpreter.get(i).split(" "), b = compiled.get(i).split(" ");
            assertEquals(a.length, b.length, b[0]);
            for (int j = 1; j < a.length; j++) assertEquals(a[j], b[j], b[0] + ": logit " + (j - 1) + " (fp32 bits) interpreted vs compiled");
        }
    }

    private static String javaBinary() { return Path.of(System.getProperty("java.home"), "bin", "java").toString(); }
}
