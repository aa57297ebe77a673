package gemel.app;

import gemel.synth.SyntheticDemo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gemel demo}: the whole method on a synthetic benchmark and a tiny random model, nothing downloaded. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs GEMEL end to end with nothing downloaded: writes a small synthetic benchmark where only the image tells "
                + "look-alike entities apart, a tiny OPT model with RANDOM weights and a tokenizer learned on the benchmark, trains the "
                + "feature mapper through the frozen model, and reports test accuracy with and without the image and the demonstrations.",
                "The random model knows no language: with a real one (e.g. facebook/opt-1.3b downloaded from Hugging Face), "
                        + "use `gemel train --model DIR ...` on real data (see the README)."})
public final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where to write the benchmark, model and run (default: a fresh folder under the system's temp directory).")
    Path dir;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try {
            Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("gemel-demo-");
            out.println("gemel demo: the model below has RANDOM weights (it knows no language); it shows the mechanics, not real-world accuracy.");
            out.flush();
            long t0 = System.nanoTime();
            SyntheticDemo.Report report = SyntheticDemo.run(work, SyntheticDemo.Settings.standard(), System.out);
            out.println();
            out.println("test accuracy (exact match of the generated entity name)");
            for (SyntheticDemo.Row row : report.rows()) out.printf(Locale.ROOT, "  %-72s %6.1f %%%n", row.setting(), 100 * row.accuracy());
            out.println();
            out.println("a few test mentions linked by the trained mapper");
            for (String[] e : report.examples())
                out.printf(Locale.ROOT, "  \"%s\" [%s] -> with image: %s | without: %s | gold: %s%n", e[0], e[1], e[3], e[4], e[2]);
            out.println();
            out.printf(Locale.ROOT, "done in %.0f s. Files in %s: data/ (benchmark), model/ (tiny random OPT), run/ (mapper.safetensors, "
                    + "metrics.jsonl, training.png).%n", (System.nanoTime() - t0) / 1e9, work);
            out.println("With a real model: gemel train --model <HF folder, e.g. opt-1.3b> --train train.jsonl --dev dev.jsonl "
                    + "--features features.hdf5 --kb kb.jsonl --out run/   (see the README)");
            out.flush();
            return 0;
        } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            out.flush();
            spec.commandLine().getErr().println("gemel demo: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            spec.commandLine().getErr().println("gemel demo: " + e.getMessage());
            return 1;
        }
    }
}
