package gemel.app;

import gemel.engine.io.NpyArray;
import gemel.engine.io.NpyFile;
import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.Decoders;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gemel forward}: one pass of a model over one sequence, logits of every position to a .npy file. */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Runs a Hugging Face decoder over one sequence (token ids or input embeddings) and writes "
                + "its logits, float32 [tokens, vocab], as a .npy file.")
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

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try (CausalLM lm = Decoders.load(model)) {
            float[] embeds = input.ids != null ? lm.embed(input.ids) : readEmbeds(input.embeds, lm.shape().inputWidth());
            int tokens = embeds.length / lm.shape().inputWidth();
            long start = System.nanoTime();
            float[] logits = lm.forward(new DecoderInput(embeds, 1, tokens, null, null), lm.newCache(1, tokens), null);
            double seconds = (System.nanoTime() - start) / 1e9;
            NpyFile.write(out, new long[] {tokens, lm.shape().vocabSize()}, logits);
            spec.commandLine().getOut().printf("%s: logits [%d, %d] written to %s (%d tokens in %.2f s)%n",
                    lm.shape().architecture(), tokens, lm.shape().vocabSize(), out, tokens, seconds);
            return 0;
        } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            err.println("gemel forward: " + e.getMessage());
            return 1;
        }
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
