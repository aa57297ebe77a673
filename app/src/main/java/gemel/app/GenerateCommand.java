package gemel.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.Decoders;
import gemel.engine.model.KvCache;
import gemel.engine.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gemel generate}: greedy continuation of a prompt, printed with the generation speed. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Greedily continues a prompt (text, which needs the folder's tokenizer, or token ids) with a "
                + "Hugging Face decoder; prints the new text (or ids when the folder has no tokenizer) and tokens/s.")
public final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model folder (config.json + weights).")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "Prompt text, tokenized as the model's tokenizer does (special tokens added).")
        String text;

        @Option(names = "--input-ids", split = ",", paramLabel = "ID", description = "Prompt token ids, comma separated.")
        int[] ids;
    }

    @Option(names = "--max-new-tokens", defaultValue = "32", paramLabel = "N", description = "At most N new tokens (default ${DEFAULT-VALUE}); stops early at end of sequence.")
    int maxNewTokens;

    @Option(names = "--json", description = "Print one JSON object {\"ids\": [...], \"text\": ..., \"tokens_per_s\": ...}.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try (CausalLM lm = Decoders.load(model)) {
            if (maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be at least 1, got " + maxNewTokens);
            Tokenizer tokenizer = hasTokenizer(model) ? Tokenizer.load(model) : null;
            if (prompt.text != null && tokenizer == null)
                throw new IllegalArgumentException(model + " has no tokenizer files (tokenizer.json, or vocab.json + merges.txt): give --input-ids instead of --prompt");
            int[] ids = prompt.text != null ? tokenizer.encode(prompt.text) : prompt.ids;
            if (ids.length == 0) throw new IllegalArgumentException("the prompt has no tokens");
            int capacity = ids.length + maxNewTokens;
            if (capacity > lm.shape().maxPositions())
                throw new IllegalArgumentException("a prompt of " + ids.length + " tokens plus " + maxNewTokens + " new tokens exceeds max_position_embeddings "
                        + lm.shape().maxPositions() + " of " + model);
            // text appears as it is generated, so a large model shows progress token by token
            TextStream stream = json || tokenizer == null ? null : new TextStream(tokenizer, out);
            long start = System.nanoTime();
            int[] generated = greedy(lm, ids, maxNewTokens, lm.newCache(1, capacity), stream == null ? next -> { } : stream::add);
            double seconds = (System.nanoTime() - start) / 1e9;
            double rate = generated.length / seconds;
            if (json) {
                ObjectNode o = new ObjectMapper().createObjectNode();
                o.putArray("ids").addAll(Arrays.stream(generated).mapToObj(o::numberNode).toList());
                o.put("text", tokenizer == null ? null : tokenizer.decode(generated, true));
                o.put("tokens_per_s", rate);
                out.println(o);
            } else {
                if (stream != null) stream.finish();
                else out.println(Arrays.toString(generated));
                out.printf("%d new tokens after a prompt of %d in %.2f s (%.2f tokens/s)%n", generated.length, ids.length, seconds, rate);
            }
            return 0;
        } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            err.println("gemel generate: " + e.getMessage());
            return 1;
        }
    }

    /** Prefills the prompt, then appends the most likely token until maxNew tokens or end of sequence; each goes to onToken. */
    static int[] greedy(CausalLM lm, int[] prompt, int maxNew, KvCache cache, IntConsumer onToken) {
        int eos = lm.shape().eosTokenId();
        int[] generated = new int[maxNew];
        float[] logits = lm.forward(new DecoderInput(lm.embed(prompt), 1, prompt.length, null, null), cache, new int[] {prompt.length - 1});
        int n = 0;
        while (true) {
            int next = argmax(logits);
            generated[n++] = next;
            onToken.accept(next);
            if (next == eos || n == maxNew) return Arrays.copyOf(generated, n);
            logits = lm.forward(new DecoderInput(lm.embed(next), 1, 1, null, null), cache, null);
        }
    }

    /** Prints the decoded text of the tokens so far as it grows (decoding all of them: pieces can merge). */
    private static final class TextStream {
        private final Tokenizer tokenizer;
        private final PrintWriter out;
        private final List<Integer> ids = new ArrayList<>();
        private String shown = "";

        TextStream(Tokenizer tokenizer, PrintWriter out) {
            this.tokenizer = tokenizer;
            this.out = out;
        }

        void add(int id) {
            ids.add(id);
            String text = tokenizer.decode(ids.stream().mapToInt(Integer::intValue).toArray(), true);
            if (!text.endsWith("\uFFFD")) show(text); // else a character's bytes are still incomplete: wait for the rest
        }

        /** Shows whatever is still held back. */
        void finish() {
            show(tokenizer.decode(ids.stream().mapToInt(Integer::intValue).toArray(), true));
            out.println();
        }

        private void show(String text) {
            int common = 0;
            while (common < Math.min(text.length(), shown.length()) && text.charAt(common) == shown.charAt(common)) common++;
            out.print(text.substring(common));
            out.flush();
            shown = text;
        }
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    private static boolean hasTokenizer(Path dir) {
        return Files.isRegularFile(dir.resolve("tokenizer.json"))
                || (Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt")));
    }
}
