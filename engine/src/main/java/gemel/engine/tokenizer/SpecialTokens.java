package gemel.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Registers the special tokens of the tokenizer config in a {@code tokenizer.json}, as transformers does when it loads
 * a fast tokenizer ({@code sanitize_special_tokens}): a token already added is marked special, a token of the model
 * vocabulary becomes an added special token with its id, any other token gets the next free id. Special tokens are
 * then cut out of the text before tokenization and skipped by {@code decode(ids, true)}.
 */
final class SpecialTokens {
    private SpecialTokens() {}

    static void register(ObjectNode tokenizerJson, List<TokenizerSettings.Token> specials, Path source) {
        JsonNode existing = tokenizerJson.get("added_tokens");
        Map<String, ObjectNode> byContent = new LinkedHashMap<>();
        if (existing != null && existing.isArray()) {
            for (JsonNode t : existing) {
                if (!t.isObject()) throw new IllegalArgumentException(source + ": an entry of added_tokens is not an object: " + t);
                byContent.put(t.path("content").asText(), (ObjectNode) t);
            }
        }
        TokenVocabulary vocabulary = TokenVocabulary.of(tokenizerJson, source);
        int next = vocabulary.nextFreeId();
        for (TokenizerSettings.Token t : specials) {
            ObjectNode entry = byContent.get(t.content());
            if (entry != null) {
                entry.put("special", true);
                continue;
            }
            Integer id = vocabulary.id(t.content());
            byContent.put(t.content(), entry(id != null ? id : next++, t, true));
        }
        List<ObjectNode> sorted = new ArrayList<>(byContent.values());
        sorted.sort(Comparator.comparingInt(n -> n.path("id").asInt()));
        ArrayNode added = tokenizerJson.putArray("added_tokens");
        sorted.forEach(added::add);
    }

    /** An entry of {@code added_tokens} in the tokenizer.json format. */
    static ObjectNode entry(int id, TokenizerSettings.Token t, boolean special) {
        ObjectNode n = TokenizerSettings.JSON.createObjectNode();
        n.put("id", id);
        n.put("content", t.content());
        n.put("single_word", t.singleWord());
        n.put("lstrip", t.lstrip());
        n.put("rstrip", t.rstrip());
        n.put("normalized", t.normalized());
        n.put("special", special);
        return n;
    }
}
