package gemel.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The ids a {@code tokenizer.json} knows: the model's vocabulary plus its added tokens, and which added tokens are
 * special (skipped by {@code decode(ids, true)}). Immutable after construction.
 */
final class TokenVocabulary {
    private final Map<String, Integer> ids;   // token content -> id
    private final BitSet known;               // ids that map to a token
    private final Set<Integer> special;       // unmodifiable

    private TokenVocabulary(Map<String, Integer> ids, BitSet known, Set<Integer> special) {
        this.ids = ids;
        this.known = known;
        this.special = special;
    }

    /** Reads the vocabulary of a parsed tokenizer.json; {@code source} names it in errors. */
    static TokenVocabulary of(JsonNode tokenizerJson, Path source) {
        JsonNode model = tokenizerJson.get("model");
        if (model == null || !model.isObject()) throw new IllegalArgumentException(source + ": no \"model\" object");
        String type = model.path("type").asText("");
        JsonNode vocab = model.get("vocab");
        Map<String, Integer> ids = new HashMap<>();
        BitSet known = new BitSet();
        if (vocab != null && vocab.isObject()) {          // BPE, WordPiece, WordLevel: token -> id
            vocab.properties().forEach(e -> put(ids, known, e.getKey(), e.getValue().asInt(-1), source));
        } else if (vocab != null && vocab.isArray()) {    // Unigram: [[piece, score], ...], id = position
            for (int i = 0; i < vocab.size(); i++) put(ids, known, vocab.get(i).path(0).asText(), i, source);
        } else {
            throw new IllegalArgumentException(source + ": model of type \"" + type + "\" has no vocabulary this reader knows");
        }
        Set<Integer> special = new TreeSet<>();
        for (JsonNode t : tokenizerJson.path("added_tokens")) {
            if (!t.hasNonNull("content") || !t.path("id").canConvertToInt()) {
                throw new IllegalArgumentException(source + ": an entry of added_tokens lacks content or id: " + t);
            }
            int id = t.get("id").asInt();
            put(ids, known, t.get("content").asText(), id, source);
            if (t.path("special").asBoolean(false)) special.add(id);
        }
        return new TokenVocabulary(Map.copyOf(ids), known, Set.copyOf(special));
    }

    private static void put(Map<String, Integer> ids, BitSet known, String content, int id, Path source) {
        if (id < 0) throw new IllegalArgumentException(source + ": token \"" + content + "\" has no valid id");
        ids.put(content, id);
        known.set(id);
    }

    /** The id of a token given by its content, or null. */
    Integer id(String content) { return ids.get(content); }

    /** One past the highest id: where transformers puts a token it adds. */
    int nextFreeId() { return known.length(); }

    boolean isKnown(int id) { return id >= 0 && known.get(id); }

    /** How many ids the tokenizer knows (transformers' {@code len(tokenizer)}). */
    int size() { return known.cardinality(); }

    Set<Integer> specialIds() { return special; }
}
