package gemel.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The gemel side of the benchmarks; {@code tools/bench/run.sh} runs it beside the PyTorch peer and
 * writes BENCHMARKS.md from both. Usage:
 * <pre>
 *   Bench machine  --plan plan.json --out results.jsonl
 *   Bench decoders --plan plan.json --out results.jsonl --model opt-1.3b-bf16
 *   Bench clip     --plan plan.json --out results.jsonl
 *   Bench entity-tree --plan plan.json --out results.jsonl
 *   Bench native-product --plan plan.json --out results.jsonl --native libgemel-native-product.so
 * </pre>
 * Sections still to come (linking, training) add a case here.
 */
public final class Bench {
    static final List<String> SECTIONS = List.of("machine", "decoders", "clip", "entity-tree", "native-product");

    private Bench() {}

    public static void main(String[] args) {
        try {
            run(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.exit(2);
        }
    }

    private static void run(String[] args) {
        if (args.length == 0 || !SECTIONS.contains(args[0]))
            throw new IllegalArgumentException("usage: Bench <" + String.join("|", SECTIONS) + "> --plan FILE --out FILE [--model NAME] [--native LIBRARY]");
        String section = args[0];
        Path plan = null, out = null;
        String model = null;
        Path library = null;
        for (int i = 1; i < args.length; i += 2) {
            if (i + 1 >= args.length) throw new IllegalArgumentException("option " + args[i] + " needs a value");
            switch (args[i]) {
                case "--plan" -> plan = Path.of(args[i + 1]);
                case "--out" -> out = Path.of(args[i + 1]);
                case "--model" -> model = args[i + 1];
                case "--native" -> library = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (plan == null || out == null) throw new IllegalArgumentException("--plan and --out are required");
        BenchPlan p = BenchPlan.read(plan);
        ResultLog log = new ResultLog(out, section);
        switch (section) {
            case "machine" -> MachineBench.run(p, log);
            case "clip" -> ClipBench.run(p, outputsDir(out), log);
            case "entity-tree" -> EntityTreeBench.run(p, outputsDir(out), log);
            case "decoders" -> {
                if (model == null) throw new IllegalArgumentException("decoders needs --model (one of " + p.models().stream().map(BenchPlan.Model::name).toList() + ")");
                DecoderBench.run(p, model, outputsDir(out), log);
            }
            case "native-product" -> {
                if (library == null) throw new IllegalArgumentException("native-product needs --native (the compiled tools/bench/native/decode_product.c)");
                NativeProductBench.run(p, library, log);
            }
            default -> throw new IllegalStateException(section);
        }
    }

    /** Where outputs kept for the report's gemel-vs-torch check go: {@code logits/} beside the results file. */
    private static Path outputsDir(Path results) {
        Path dir = results.toAbsolutePath().getParent().resolve("logits");
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }
}
