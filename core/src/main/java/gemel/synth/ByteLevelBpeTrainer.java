package gemel.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.io.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns a small GPT-2 style byte-level BPE vocabulary from a corpus and writes it as an OPT
 * tokenizer folder ({@code vocab.json}, {@code merges.txt}, {@code tokenizer_config.json},
 * {@code special_tokens_map.json}) with OPT's special tokens {@code <s>}=0, {@code <pad>}=1,
 * {@code </s>}=2, {@code <unk>}=3 and BOS {@code </s>} added in front.
 * Training: pre-tokenize with GPT-2's pattern, then repeatedly merge the most frequent adjacent
 * pair (ties: the smaller pair string), so the result depends only on the corpus.
 */
public final class ByteLevelBpeTrainer {
    private static final Pattern GPT2_SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
    private static final String[] SPECIALS = {"<s>", "<pad>", "</s>", "<unk>"};
    private static final ObjectMapper JSON = new ObjectMapper();

    private ByteLevelBpeTrainer() {
    }

    /** The learned vocabulary (token -> id, specials first, then the 256 bytes, then merges) and the merges in rank order. */
    public record Vocabulary(Map<String, Integer> tokens, List<String> merges) {
    }

    public static Vocabulary train(List<String> corpus, int mergeCount) {
        String[] byteChars = byteToUnicode();
        Map<List<String>, Integer> words = new HashMap<>();
        for (String text : corpus) {
            Matcher m = GPT2_SPLIT.matcher(text);
            while (m.find()) {
                List<String> symbols = new ArrayList<>();
                for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) symbols.add(byteChars[b & 0xff]);
                words.merge(symbols, 1, Integer::sum);
            }
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : SPECIALS) vocab.put(s, vocab.size());
        for (String c : byteChars) vocab.put(c, vocab.size());
        List<String> merges = new ArrayList<>();
        List<List<String>> keys = new ArrayList<>(words.keySet());
        List<Integer> counts = new ArrayList<>();
        for (List<String> k : keys) counts.add(words.get(k));
        List<List<String>> current = new ArrayList<>();
        for (List<String> k : keys) current.add(new ArrayList<>(k));
        for (int step = 0; step < mergeCount; step++) {
            TreeMap<String, Integer> pairs = new TreeMap<>(); // sorted: ties go to the smaller pair string
            for (int w = 0; w < current.size(); w++) {
                List<String> s = current.get(w);
                for (int i = 0; i + 1 < s.size(); i++) pairs.merge(s.get(i) + " " + s.get(i + 1), counts.get(w), Integer::sum);
            }
            String best = null;
            int bestCount = 1; // a pair seen once is not worth a token
            for (Map.Entry<String, Integer> e : pairs.entrySet()) if (e.getValue() > bestCount) { best = e.getKey(); bestCount = e.getValue(); }
            if (best == null) break;
            String left = best.substring(0, best.indexOf(' ')), right = best.substring(best.indexOf(' ') + 1);
            merges.add(best);
            vocab.putIfAbsent(left + right, vocab.size());
            for (List<String> s : current)
                for (int i = 0; i + 1 < s.size(); i++)
                    if (s.get(i).equals(left) && s.get(i + 1).equals(right)) {
                        s.set(i, left + right);
                        s.remove(i + 1);
                    }
        }
        return new Vocabulary(vocab, merges);
    }

    /** Writes {@code vocabulary} as an OPT-style tokenizer folder into {@code dir} (each file atomically). */
    public static void writeOptFolder(Vocabulary vocabulary, Path dir) throws IOException {
        Files.createDirectories(dir);
        write(dir.resolve("vocab.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(vocabulary.tokens()));
        write(dir.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", vocabulary.merges()) + "\n");
        ObjectNode config = JSON.createObjectNode();
        config.put("tokenizer_class", "GPT2Tokenizer").put("add_bos_token", true).put("add_prefix_space", false)
                .put("bos_token", "</s>").put("eos_token", "</s>").put("unk_token", "</s>").put("pad_token", "<pad>")
                .put("errors", "replace").put("model_max_length", 1000000000);
        write(dir.resolve("tokenizer_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
        ObjectNode special = JSON.createObjectNode();
        special.put("bos_token", "</s>").put("eos_token", "</s>").put("unk_token", "</s>").put("pad_token", "<pad>");
        write(dir.resolve("special_tokens_map.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(special));
    }

    /** GPT-2's reversible map from bytes to printable characters. */
    static String[] byteToUnicode() {
        String[] out = new String[256];
        boolean[] direct = new boolean[256];
        for (int b = '!'; b <= '~'; b++) direct[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) direct[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) direct[b] = true;
        int n = 0;
        for (int b = 0; b < 256; b++) out[b] = direct[b] ? String.valueOf((char) b) : String.valueOf((char) (256 + n++));
        return out;
    }

    private static void write(Path file, String text) {
        AtomicFile.writeStream(file, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }
}
