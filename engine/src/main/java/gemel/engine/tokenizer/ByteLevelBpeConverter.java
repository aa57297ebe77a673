package gemel.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the {@code tokenizer.json} that transformers' GPT2TokenizerFast would build from a GPT-2/OPT folder
 * ({@code vocab.json} + {@code merges.txt}, with {@code tokenizer_config.json}, {@code special_tokens_map.json} and
 * {@code added_tokens.json} when present): a byte-level BPE model, the ByteLevel pre-tokenizer and decoder, the added
 * and special tokens, and a post-processor that puts the BOS token in front when {@code add_bos_token} is set (OPT).
 */
final class ByteLevelBpeConverter {
    private static final Set<String> SUPPORTED_CLASSES = Set.of("GPT2Tokenizer", "GPT2TokenizerFast");

    private ByteLevelBpeConverter() {}

    static ObjectNode convert(Path dir, TokenizerSettings settings) {
        String cls = settings.string("tokenizer_class");
        if (cls != null && !SUPPORTED_CLASSES.contains(cls)) {
            throw new IllegalArgumentException(dir.resolve("tokenizer_config.json") + ": tokenizer_class " + cls
                    + " is not supported from vocab.json + merges.txt (supported: " + SUPPORTED_CLASSES + "); a tokenizer.json is needed");
        }
        Map<String, Integer> vocab = readVocab(dir.resolve("vocab.json"));
        List<String> merges = readMerges(dir.resolve("merges.txt"), vocab);

        ObjectNode root = TokenizerSettings.JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.set("added_tokens", addedTokens(dir.resolve("added_tokens.json"), vocab));
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(settings.flag("add_prefix_space", false), true));
        root.set("decoder", byteLevel(true, true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocabNode = model.putObject("vocab");
        vocab.forEach(vocabNode::put);
        ArrayNode mergesNode = model.putArray("merges");
        merges.forEach(mergesNode::add);
        SpecialTokens.register(root, settings.allSpecial(), dir.resolve("vocab.json"));
        root.set("post_processor", postProcessor(dir, settings, TokenVocabulary.of(root, dir.resolve("vocab.json"))));
        return root;
    }

    /** OPT: {@code </s> $A}; plain GPT-2: a ByteLevel processor that changes nothing but offsets. */
    private static JsonNode postProcessor(Path dir, TokenizerSettings settings, TokenVocabulary vocabulary) {
        if (!settings.flag("add_bos_token", false)) return byteLevel(true, false);
        TokenizerSettings.Token bos = settings.token("bos_token");
        if (bos == null) throw new IllegalArgumentException(dir.resolve("tokenizer_config.json") + ": add_bos_token is true but there is no bos_token");
        ObjectNode p = TokenizerSettings.JSON.createObjectNode();
        p.put("type", "TemplateProcessing");
        ArrayNode single = p.putArray("single");
        single.add(specialPiece(bos.content(), 0));
        single.add(sequencePiece("A", 0));
        ArrayNode pair = p.putArray("pair");
        pair.add(specialPiece(bos.content(), 0));
        pair.add(sequencePiece("A", 0));
        pair.add(sequencePiece("B", 1));
        ObjectNode special = p.putObject("special_tokens").putObject(bos.content());
        special.put("id", bos.content());
        special.putArray("ids").add(vocabulary.id(bos.content()));
        special.putArray("tokens").add(bos.content());
        return p;
    }

    private static ObjectNode specialPiece(String content, int typeId) {
        ObjectNode n = TokenizerSettings.JSON.createObjectNode();
        n.putObject("SpecialToken").put("id", content).put("type_id", typeId);
        return n;
    }

    private static ObjectNode sequencePiece(String name, int typeId) {
        ObjectNode n = TokenizerSettings.JSON.createObjectNode();
        n.putObject("Sequence").put("id", name).put("type_id", typeId);
        return n;
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets) {
        ObjectNode n = TokenizerSettings.JSON.createObjectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", trimOffsets);
        n.put("use_regex", true);
        return n;
    }

    private static Map<String, Integer> readVocab(Path file) {
        Map<String, Integer> vocab = readIds(file);
        if (vocab.isEmpty()) throw new IllegalArgumentException(file + ": empty vocabulary");
        return vocab;
    }

    /** A JSON object of token -> id (vocab.json, added_tokens.json); empty when the file does not exist. */
    private static Map<String, Integer> readIds(Path file) {
        Map<String, Integer> ids = new LinkedHashMap<>();
        TokenizerSettings.readObject(file).properties().forEach(e -> {
            if (!e.getValue().canConvertToInt()) throw new IllegalArgumentException(file + ": the id of \"" + e.getKey() + "\" is not an integer: " + e.getValue());
            ids.put(e.getKey(), e.getValue().asInt());
        });
        return ids;
    }

    /**
     * The merges in rank order. Like GPT2Tokenizer, the first line (the {@code #version} header) and whatever follows
     * the last newline are not merges; blank lines are skipped.
     */
    private static List<String> readMerges(Path file, Map<String, Integer> vocab) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
        String[] lines = text.split("\n", -1);
        List<String> merges = new ArrayList<>(Math.max(0, lines.length - 2));
        for (int i = 1; i < lines.length - 1; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) continue;
            String[] parts = line.split("\\s+");
            if (parts.length != 2) throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected two tokens, got \"" + line + "\"");
            for (String part : new String[] {parts[0], parts[1], parts[0] + parts[1]}) {
                if (!vocab.containsKey(part)) {
                    throw new IllegalArgumentException(file + " line " + (i + 1) + ": \"" + part + "\" of merge \"" + line + "\" is not in vocab.json");
                }
            }
            merges.add(parts[0] + " " + parts[1]);
        }
        return merges;
    }

    /**
     * The entries of added_tokens.json as tokenizer.json added tokens (none when the file does not exist). Like
     * GPT2Tokenizer, each must take the next id after the vocabulary, unless it is a vocabulary token with its own id.
     */
    private static ArrayNode addedTokens(Path file, Map<String, Integer> vocab) {
        List<Map.Entry<String, Integer>> entries = new ArrayList<>(readIds(file).entrySet());
        entries.sort(Map.Entry.comparingByValue());
        ArrayNode added = TokenizerSettings.JSON.createArrayNode();
        int next = vocab.size();
        for (Map.Entry<String, Integer> e : entries) {
            if (e.getValue().equals(vocab.get(e.getKey()))) continue;
            if (e.getValue() != next) {
                throw new IllegalArgumentException(file + ": \"" + e.getKey() + "\" has id " + e.getValue() + " but the next free id is " + next
                        + " (added tokens must follow the vocabulary without gaps)");
            }
            added.add(SpecialTokens.entry(next++, TokenizerSettings.Token.plain(e.getKey()), false));
        }
        return added;
    }
}
