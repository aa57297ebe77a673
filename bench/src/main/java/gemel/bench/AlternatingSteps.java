package gemel.bench;

import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.TensorView;
import gemel.engine.kernel.MatMul;
import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.Decoders;
import gemel.engine.model.KvCache;
import gemel.engine.tensor.DType;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Two builds of the engine in one JVM, each in a class loader of its own, timing decode steps of the same
 * model in turn (A then B, then B then A, ...): a kernel change is judged against the step before or
 * after it, on the same machine state. This machine's memory and cores change speed from minute to
 * minute, so two runs made one after the other differed by more than the changes being measured.
 * {@code tools/bench/ab.sh} builds the two revisions and runs it:
 * <pre>AlternatingSteps MODEL_DIR ROWS STEPS ENGINE_CLASSES_A ENGINE_CLASSES_B [PROMPT]</pre>
 * Each step runs {@code ROWS} rows of one token on the cache of a {@code PROMPT}-token prompt (default
 * {@value #DEFAULT_PROMPT}; forked for several rows, as beam search shares its prompt). Or, to time one kernel apart
 * from the rest of a step, each step is one matrix product ({@link ProductRun}):
 * <pre>AlternatingSteps product DTYPE ROWS IN TOKENS STEPS ENGINE_CLASSES_A ENGINE_CLASSES_B</pre>
 * or one prompt of {@code TOKENS} tokens on a fresh cache ({@link PrefillRun}):
 * <pre>AlternatingSteps prefill MODEL_DIR TOKENS STEPS ENGINE_CLASSES_A ENGINE_CLASSES_B</pre>
 * Prints both medians and their ratio.
 */
public final class AlternatingSteps {
    private static final int DEFAULT_PROMPT = 256;
    private static final int WARM_STEPS = 3;

    private AlternatingSteps() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 8 && args[0].equals("product")) {
            String dtype = args[1];
            int rows = Integer.parseInt(args[2]), in = Integer.parseInt(args[3]), tokens = Integer.parseInt(args[4]), steps = Integer.parseInt(args[5]);
            Object[] parameters = {dtype, rows, in, tokens};
            Class<?>[] types = {String.class, int.class, int.class, int.class};
            DoubleSupplier a = build(Path.of(args[6]), ProductRun.class, types, parameters), b = build(Path.of(args[7]), ProductRun.class, types, parameters);
            alternate(a, b, steps, String.format(Locale.ROOT, "%s [%d, %d] times %d tokens (%s)", dtype, rows, in, tokens, ProductRun.place(dtype, rows, in)));
            return;
        }
        if (args.length == 6 && args[0].equals("prefill")) {
            Path model = Path.of(args[1]);
            int tokens = Integer.parseInt(args[2]), steps = Integer.parseInt(args[3]);
            Object[] parameters = {model, tokens};
            Class<?>[] types = {Path.class, int.class};
            DoubleSupplier a = build(Path.of(args[4]), PrefillRun.class, types, parameters), b = build(Path.of(args[5]), PrefillRun.class, types, parameters);
            alternate(a, b, steps, String.format(Locale.ROOT, "%s, prompts of %d tokens", model.getFileName(), tokens));
            return;
        }
        if (args.length != 5 && args.length != 6)
            throw new IllegalArgumentException("usage: AlternatingSteps MODEL_DIR ROWS STEPS ENGINE_CLASSES_A ENGINE_CLASSES_B [PROMPT]\n"
                    + "   or: AlternatingSteps product DTYPE ROWS IN TOKENS STEPS ENGINE_CLASSES_A ENGINE_CLASSES_B\n"
                    + "   or: AlternatingSteps prefill MODEL_DIR TOKENS STEPS ENGINE_CLASSES_A ENGINE_CLASSES_B");
        Path model = Path.of(args[0]);
        int rows = Integer.parseInt(args[1]), steps = Integer.parseInt(args[2]);
        int prompt = args.length == 6 ? Integer.parseInt(args[5]) : DEFAULT_PROMPT;
        Object[] parameters = {model, rows, prompt, WARM_STEPS + 2 * steps};
        Class<?>[] types = {Path.class, int.class, int.class, int.class};
        DoubleSupplier a = build(Path.of(args[3]), Run.class, types, parameters), b = build(Path.of(args[4]), Run.class, types, parameters);
        alternate(a, b, steps, String.format(Locale.ROOT, "%s, %d rows a step after %d tokens", model.getFileName(), rows, prompt));
    }

    /** Times {@code steps} of each in turn, after a few of each untimed, and prints the medians. */
    private static void alternate(DoubleSupplier a, DoubleSupplier b, int steps, String what) {
        for (int w = 0; w < WARM_STEPS; w++) {
            a.getAsDouble();
            b.getAsDouble();
        }
        double[] ta = new double[steps], tb = new double[steps];
        for (int s = 0; s < steps; s++) {
            if (s % 2 == 0) {
                ta[s] = a.getAsDouble();
                tb[s] = b.getAsDouble();
            } else {
                tb[s] = b.getAsDouble();
                ta[s] = a.getAsDouble();
            }
        }
        Arrays.sort(ta);
        Arrays.sort(tb);
        System.out.printf(Locale.ROOT, "%s: A %.3f ms, B %.3f ms (medians of %d alternating steps; B / A %.3f; quartiles A %.3f-%.3f, B %.3f-%.3f)%n",
                what, ta[steps / 2], tb[steps / 2], steps, tb[steps / 2] / ta[steps / 2],
                ta[steps / 4], ta[3 * steps / 4], tb[steps / 4], tb[3 * steps / 4]);
    }

    /**
     * A {@code run} (a {@link DoubleSupplier} of this jar) of the engine in {@code engineClasses}, loaded with its libraries
     * (this jar's, but the engine's) apart from this JVM's engine.
     */
    private static DoubleSupplier build(Path engineClasses, Class<?> run, Class<?>[] types, Object[] parameters) throws Exception {
        if (!Files.isDirectory(engineClasses) && !Files.isRegularFile(engineClasses))
            throw new IllegalArgumentException("no engine build at " + engineClasses);
        List<URL> urls = new ArrayList<>();
        urls.add(engineClasses.toUri().toURL());
        Path self = Path.of(AlternatingSteps.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        urls.add(self.toUri().toURL());
        urls.addAll(libraries(self));
        ClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
        return (DoubleSupplier) loader.loadClass(run.getName()).getConstructor(types).newInstance(parameters);
    }

    /**
     * The libraries but gemel's own (the engine comes from the build under test): the jars beside this one (lib/, as
     * packaged), or, run from compiled classes (the tests), the jars of this JVM's class path.
     */
    private static List<URL> libraries(Path self) throws IOException {
        Path lib = self.resolveSibling("lib");
        List<Path> jars;
        if (Files.isDirectory(lib)) {
            try (Stream<Path> listed = Files.list(lib)) {
                jars = listed.toList();
            }
        } else {
            jars = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator)).map(Path::of).toList();
        }
        return jars.stream().filter(p -> p.getFileName().toString().endsWith(".jar") && !p.getFileName().toString().startsWith("gemel-"))
                .sorted().map(p -> {
                    try {
                        return p.toUri().toURL();
                    } catch (MalformedURLException e) {
                        throw new UncheckedIOException(e);
                    }
                }).toList();
    }

    /** The input embeddings of a prompt of {@code tokens} tokens: ids 5, 6, ..., wrapping at the vocabulary. */
    private static float[] promptEmbeds(CausalLM lm, int tokens) {
        int width = lm.shape().inputWidth(), vocab = lm.shape().vocabSize();
        float[] embeds = new float[tokens * width];
        for (int i = 0; i < tokens; i++) lm.embed((5 + i) % vocab, embeds, i * width);
        return embeds;
    }

    /** One build's model on a prefilled prompt: each call runs one step and returns its milliseconds. */
    public static final class Run implements DoubleSupplier {
        private final CausalLM lm;
        private final KvCache cache;
        private final int rows, width, vocab;
        private int step;

        public Run(Path dir, int rows, int tokens, int steps) throws IOException {
            lm = Decoders.load(HfConfig.load(dir), Checkpoint.open(dir));
            this.rows = rows;
            width = lm.shape().inputWidth();
            vocab = lm.shape().vocabSize();
            KvCache prompt = lm.newCache(1, tokens + steps);
            lm.forward(new DecoderInput(promptEmbeds(lm, tokens), 1, tokens, null, null), prompt, new int[] {tokens - 1});
            cache = rows == 1 ? prompt : prompt.fork(rows);
        }

        @Override
        public double getAsDouble() {
            float[] x = new float[rows * width];
            for (int b = 0; b < rows; b++) lm.embed((7 + step + b) % vocab, x, b * width);
            long t0 = System.nanoTime();
            lm.forward(new DecoderInput(x, rows, 1, null, null), cache, IntStream.range(0, rows).toArray());
            step++;
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    /** One build's model on one prompt: each call runs a prefill of {@code tokens} tokens on a fresh cache and returns its milliseconds. */
    public static final class PrefillRun implements DoubleSupplier {
        private final CausalLM lm;
        private final float[] embeds;
        private final int tokens;

        public PrefillRun(Path dir, int tokens) throws IOException {
            lm = Decoders.load(HfConfig.load(dir), Checkpoint.open(dir));
            this.tokens = tokens;
            embeds = promptEmbeds(lm, tokens);
        }

        @Override
        public double getAsDouble() {
            KvCache cache = lm.newCache(1, tokens);
            long t0 = System.nanoTime();
            lm.forward(new DecoderInput(embeds, 1, tokens, null, null), cache, new int[] {tokens - 1});
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    /**
     * One build's product of a random weight [rows, in] of a stored dtype with {@code tokens} random tokens: each call
     * runs it and returns its milliseconds. A weight of {@value #CACHED_BYTES} bytes or less is multiplied
     * {@value #CACHED_BYTES_TOTAL} / its bytes times in a row and the mean returned: after the first it comes from the
     * caches, so the time is the kernel's compute. A larger one comes from memory. The weight starts 16 bytes past a cache
     * line, as the tensors of a safetensors file usually do (its header is padded to 8 bytes).
     */
    public static final class ProductRun implements DoubleSupplier {
        private static final long CACHED_BYTES = 16L << 20, CACHED_BYTES_TOTAL = 256L << 20;
        private final TensorView weight;
        private final float[] x, out;
        private final int tokens, repeats;

        public ProductRun(String dtypeName, int rows, int in, int tokens) {
            DType dtype = DType.valueOf(dtypeName);
            SplittableRandom random = new SplittableRandom(7);
            weight = RandomWeight.of(Arena.ofShared(), dtype, rows, in, 16, random);
            this.tokens = tokens;
            x = new float[tokens * in];
            for (int i = 0; i < x.length; i++) x[i] = (float) (random.nextDouble() * 2 - 1);
            out = new float[tokens * rows];
            long bytes = weight.data().byteSize();
            repeats = bytes <= CACHED_BYTES ? (int) (CACHED_BYTES_TOTAL / bytes) : 1;
        }

        /** Where the weight of a product comes from: "cached" or "memory". */
        static String place(String dtypeName, int rows, int in) {
            return (long) rows * in * DType.valueOf(dtypeName).bytes() <= CACHED_BYTES ? "cached" : "memory";
        }

        @Override
        public double getAsDouble() {
            long t0 = System.nanoTime();
            for (int r = 0; r < repeats; r++) MatMul.multiply(x, tokens, weight, null, out);
            return (System.nanoTime() - t0) / 1e6 / repeats;
        }
    }
}
