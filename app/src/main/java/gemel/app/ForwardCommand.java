package gemel.app;

import gemel.engine.grad.InputGradients;
import gemel.engine.io.NpyArray;
import gemel.engine.io.NpyFile;
import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.Decoders;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gemel forward}: one pass of a model over one sequence, logits of every position to a .npy file. */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Runs a Hugging Face decoder over one sequence (token ids or input embeddings) and writes "
                + "its logits, float32 [tokens, vocab], as a .npy file. With --labels and --grad-out also the causal-LM loss "
                + "and its gradient with respect to the input embeddings (the model stays frozen).")
public final class ForwardCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model folder (config.json + weights).")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--input-ids", split = ",", paramLabel = "ID", description = "Token ids, comma separated, e.g. 2,100,7.")
        int[] ids;

        @Option(names = "--inputs-embeds", paramLabel = "E.npy",
                description = "float32 .npy of input embeddings [tokens, inputWidth] (inputWidth is word_embed_proj_dim for opt-350m-like models).")
        Path embeds;
    }

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the logits .npy.")
    Path out;

    @Option(names = "--labels", paramLabel = "L.npy",
            description = "Integer .npy of labels [tokens]: -100 except on target tokens (logits[t] score labels[t + 1]). "
                    + "With --grad-out: prints the mean cross-entropy loss and writes its gradient.")
    Path labels;

    @Option(names = "--grad-out", paramLabel = "G.npy",
            description = "Where to write d loss / d inputs_embeds, float32 [tokens, inputWidth] (needs --labels).")
    Path gradOut;

    @Option(names = "--recompute", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Recompute each layer's activations during the backward instead of keeping them (default: ${DEFAULT-VALUE}).")
    boolean recompute;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if ((labels == null) != (gradOut == null)) {
            err.println("gemel forward: --labels and --grad-out go together (the loss needs labels, and its gradient a file to go to)");
            return 2;
        }
        try (CausalLM lm = Decoders.load(model)) {
            float[] embeds = input.ids != null ? lm.embed(input.ids) : readEmbeds(input.embeds, lm.shape().inputWidth());
            int tokens = embeds.length / lm.shape().inputWidth();
            long start = System.nanoTime();
            float[] logits = lm.forward(new DecoderInput(embeds, 1, tokens, null, null), lm.newCache(1, tokens), null);
            double seconds = (System.nanoTime() - start) / 1e9;
            NpyFile.write(out, new long[] {tokens, lm.shape().vocabSize()}, logits);
            spec.commandLine().getOut().printf("%s: logits [%d, %d] written to %s (%d tokens in %.2f s)%n",
                    lm.shape().architecture(), tokens, lm.shape().vocabSize(), out, tokens, seconds);
            if (labels != null) writeGradient(lm, embeds, tokens);
            return 0;
        } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            err.println("gemel forward: " + e.getMessage());
            return 1;
        }
    }

    /** Loss of {@link #labels} and its gradient with respect to the input embeddings, written to {@link #gradOut}. */
    private void writeGradient(CausalLM lm, float[] embeds, int tokens) {
        NpyArray l = NpyFile.read(labels);
        if (l.elementCount() != tokens || !(l.rank() == 1 || l.rank() == 2 && l.dim(0) == 1))
            throw new IllegalArgumentException(labels + ": labels must be [" + tokens + "] integers, found " + l);
        int[] ids = l.ints();
        int width = lm.shape().inputWidth();
        InputGradients gradients = InputGradients.of(lm, recompute);
        long start = System.nanoTime();
        InputGradients.Result r = gradients.compute(embeds, 1, tokens, null, null, ids);
        double seconds = (System.nanoTime() - start) / 1e9;
        NpyFile.write(gradOut, new long[] {tokens, width}, r.gradients());
        spec.commandLine().getOut().printf(Locale.ROOT, "loss %.6f over %d target tokens; d loss / d inputs_embeds [%d, %d] written to %s (%.2f s, "
                        + "activations %.1f MB with recompute, %.1f MB without)%n", r.loss(), r.targets(), tokens, width, gradOut, seconds,
                gradients.activationBytes(1, tokens, true) / 1e6, gradients.activationBytes(1, tokens, false) / 1e6);
    }

    /** [tokens, width] (or [1, tokens, width]) float32 embeddings; any other shape is an error naming the file. */
    private static float[] readEmbeds(Path file, int width) {
        NpyArray a = NpyFile.read(file);
        boolean ok = (a.rank() == 2 && a.dim(1) == width) || (a.rank() == 3 && a.dim(0) == 1 && a.dim(2) == width);
        if (!ok || a.elementCount() == 0)
            throw new IllegalArgumentException(file + ": input embeddings must be [tokens, " + width + "] float32, found " + a);
        return a.floats();
    }
}
