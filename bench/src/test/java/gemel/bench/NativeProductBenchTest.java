package gemel.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeProductBenchTest {

    /**
     * The C peer compiled as run.sh compiles it, and one small run of every dtype: both sides multiply the same bytes
     * to the same outputs (the C peer widens F16 with the processor's conversion and sums in its own order), every round
     * of every side is timed, and the bf16 dot instruction, where the processor has it, lands near the exact product.
     * Needs gcc and AVX-512 (the peer's intrinsics); without them the test is skipped, not passed.
     */
    @Test
    void gemelAndTheCPeerMultiplyTheSameBytesAlike(@TempDir Path dir) throws IOException, InterruptedException {
        String flags = Files.readString(Path.of("/proc/cpuinfo"));
        assumeTrue(flags.contains(" avx512f"), "the C peer needs AVX-512");
        Path source = Path.of(System.getProperty("gemel.root"), "tools", "bench", "native", "decode_product.c");
        Path library = dir.resolve("libgemel-native-product.so");
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-O2", "-march=native", "-pthread", "-shared", "-fPIC", "-Wall", "-Werror", "-o", library.toString(),
                    source.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no gcc: " + e.getMessage());
            return;
        }
        String said = new String(gcc.getInputStream().readAllBytes());
        assertEquals(0, gcc.waitFor(), said);

        int rounds = 3;
        BenchPlan plan = new BenchPlan("test", null, 0, 0, 0, 0, 0, 0, null, 0, 0, List.of(), null, null,
                new BenchPlan.NativeProductPlan(new int[] {1024}, 4L << 20, rounds, 5));
        Path results = dir.resolve("results.jsonl");
        NativeProductBench.run(plan, library, new ResultLog(results, "native-product"));

        List<JsonNode> records = new ArrayList<>();
        for (String line : Files.readAllLines(results)) records.add(new ObjectMapper().readTree(line));
        assertEquals(List.of("F32", "BF16", "F16"), records.stream().map(r -> r.get("dtype").asText()).toList());
        for (JsonNode r : records) {
            String dtype = r.get("dtype").asText();
            assertTrue(r.get("bytes").asLong() > (3L << 20) && r.get("bytes").asLong() <= 4L << 20, dtype + ": " + r.get("bytes"));
            for (String timed : new String[] {"gemel_read_gb_per_s", "gemel_gb_per_s", "native_read_gb_per_s", "native_gb_per_s"}) {
                assertEquals(rounds, r.get(timed).size(), dtype + " " + timed);
                r.get(timed).forEach(rate -> assertTrue(rate.asDouble() > 0, dtype + " " + timed + ": " + rate));
            }
            assertTrue(r.get("max_difference").asDouble() < 1e-5, dtype + ": outputs differ by " + r.get("max_difference"));
            JsonNode dot = r.get("bf16_dot_max_difference");
            if (!dot.isNull()) assertTrue(dtype.equals("BF16") && dot.asDouble() < 1e-2, dtype + ": the bf16 dot differs by " + dot);
        }
    }
}
