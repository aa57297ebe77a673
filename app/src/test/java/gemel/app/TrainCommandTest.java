package gemel.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.io.SafetensorsFile;
import gemel.synth.ByteLevelBpeTrainer;
import gemel.synth.SyntheticBenchmark;
import gemel.synth.TinyOptWriter;
import gemel.train.MetricsLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gemel train} on a small synthetic benchmark: outputs, stop and resume to the same mapper, bad input. */
class TrainCommandTest {

    @TempDir
    Path tmp;

    private SyntheticBenchmark.BenchmarkFiles prepare() throws Exception {
        SyntheticBenchmark bench = SyntheticBenchmark.generate(new SyntheticBenchmark.Settings(2, 2, 8, 3, 1, 1, 0.2, 7));
        SyntheticBenchmark.BenchmarkFiles files = bench.write(tmp.resolve("data"));
        ByteLevelBpeTrainer.Vocabulary v = ByteLevelBpeTrainer.train(bench.corpus(), 100);
        ByteLevelBpeTrainer.writeOptFolder(v, tmp.resolve("model"));
        TinyOptWriter.write(new TinyOptWriter.Shape(v.tokens().size(), 16, 1, 2, 32, 256), 1, tmp.resolve("model"));
        return files;
    }

    private ForwardCommandTest.Run train(SyntheticBenchmark.BenchmarkFiles f, Path out, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--model", tmp.resolve("model").toString(), "--train", f.train().toString(),
                "--dev", f.dev().toString(), "--features", f.features().toString(), "--kb", f.kb().toString(), "--out", out.toString(),
                "--demos", "1", "--image-tokens", "2", "--epochs", "2", "--grad-accum", "2", "--lr", "1e-2", "--eval-every", "2"));
        args.addAll(Arrays.asList(extra));
        return ForwardCommandTest.gemel(args.toArray(String[]::new));
    }

    @Test
    void trainsWritesTheRunAndResumesExactly() throws Exception {
        SyntheticBenchmark.BenchmarkFiles f = prepare();
        ForwardCommandTest.Run whole = train(f, tmp.resolve("whole"));
        assertEquals(0, whole.code(), whole.err());
        assertTrue(whole.out().contains("trained 12 optimizer steps"), whole.out());
        for (String file : List.of("mapper.safetensors", "checkpoint.safetensors", "metrics.jsonl", "training.png"))
            assertTrue(Files.exists(tmp.resolve("whole").resolve(file)), file);

        ForwardCommandTest.Run first = train(f, tmp.resolve("split"), "--stop-after", "5");
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("stopped after optimizer step 5"), first.out());
        ForwardCommandTest.Run rest = train(f, tmp.resolve("split"), "--resume");
        assertEquals(0, rest.code(), rest.err());
        try (SafetensorsFile a = SafetensorsFile.open(tmp.resolve("whole/mapper.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(tmp.resolve("split/mapper.safetensors"))) {
            assertTrue(Arrays.equals(a.tensor("weight").toFloats(), b.tensor("weight").toFloats()), "same mapper after stop + resume");
        }
        List<Map<String, Object>> events = MetricsLog.read(tmp.resolve("split/metrics.jsonl"));
        assertEquals(MetricsLog.read(tmp.resolve("whole/metrics.jsonl")), events);
    }

    @Test
    void missingFileIsAnErrorNamingIt() throws Exception {
        SyntheticBenchmark.BenchmarkFiles f = prepare();
        Files.delete(f.kb());
        ForwardCommandTest.Run run = train(f, tmp.resolve("run"));
        assertEquals(1, run.code());
        assertTrue(run.err().contains("kb.jsonl"), run.err());
    }
}
