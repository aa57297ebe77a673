package gemel.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code tokenizer_config.json} and {@code special_tokens_map.json} say about a tokenizer, merged the way
 * transformers' {@code from_pretrained} merges them: the config gives the constructor arguments, then every entry of
 * the special-tokens map overrides the attribute of the same name.
 */
final class TokenizerSettings {
    static final ObjectMapper JSON = new ObjectMapper();

    /** The special-token attributes of transformers, in the order it registers them. */
    static final List<String> ROLES = List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    /** A special token as transformers' AddedToken describes it. */
    record Token(String content, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized) {
        static Token plain(String content) { return new Token(content, false, false, false, true); }
    }

    private final Map<String, Token> roles;          // role -> token, for roles given a token
    private final Set<String> explicitlyNone;         // roles set to null on purpose (e.g. Llama's pad_token)
    private final List<Token> additional;             // additional_special_tokens
    private final JsonNode config;                    // tokenizer_config.json, or an empty object

    private TokenizerSettings(Map<String, Token> roles, Set<String> explicitlyNone, List<Token> additional, JsonNode config) {
        this.roles = roles;
        this.explicitlyNone = explicitlyNone;
        this.additional = additional;
        this.config = config;
    }

    static TokenizerSettings read(Path dir) {
        Map<String, Token> roles = new LinkedHashMap<>();
        Set<String> none = new HashSet<>();
        List<Token> additional = new ArrayList<>();
        Path configFile = dir.resolve("tokenizer_config.json");
        Path mapFile = dir.resolve("special_tokens_map.json");
        JsonNode config = readObject(configFile);
        mergeSpecialTokens(config, configFile, roles, none, additional);
        mergeSpecialTokens(readObject(mapFile), mapFile, roles, none, additional);
        return new TokenizerSettings(roles, none, additional, config);
    }

    /** Lays the special tokens named in {@code source} over those read so far. */
    private static void mergeSpecialTokens(JsonNode source, Path file, Map<String, Token> roles, Set<String> none, List<Token> additional) {
        for (String role : ROLES) {
            if (!source.has(role)) continue;
            JsonNode v = source.get(role);
            if (v.isNull()) {
                roles.remove(role);
                none.add(role);
            } else {
                roles.put(role, token(v, file, role));
                none.remove(role);
            }
        }
        JsonNode extra = source.get("additional_special_tokens");
        if (extra != null && extra.isArray()) {
            additional.clear();
            for (JsonNode t : extra) additional.add(token(t, file, "additional_special_tokens"));
        }
    }

    /** GPT2Tokenizer's constructor defaults: bos, eos and unk are {@code <|endoftext|>} unless the files say otherwise. */
    TokenizerSettings withGpt2Defaults() {
        Map<String, Token> r = new LinkedHashMap<>();
        for (String role : ROLES) {
            if (roles.containsKey(role)) r.put(role, roles.get(role));
            else if (!explicitlyNone.contains(role) && Set.of("bos_token", "eos_token", "unk_token").contains(role)) {
                r.put(role, Token.plain("<|endoftext|>"));
            }
        }
        return new TokenizerSettings(r, explicitlyNone, additional, config);
    }

    /** The token of a role such as {@code bos_token}; null when none. */
    Token token(String role) { return roles.get(role); }

    /** True when the files set the role to null on purpose, so that no fallback (config.json) applies. */
    boolean isExplicitlyNone(String role) { return explicitlyNone.contains(role); }

    /** Every special token, roles first then the additional ones, without repeats (transformers' all_special_tokens). */
    List<Token> allSpecial() {
        Map<String, Token> seen = new LinkedHashMap<>();
        for (Token t : roles.values()) seen.putIfAbsent(t.content(), t);
        for (Token t : additional) seen.putIfAbsent(t.content(), t);
        return List.copyOf(seen.values());
    }

    boolean flag(String key, boolean fallback) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? fallback : n.asBoolean();
    }

    String string(String key) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? null : n.asText();
    }

    private static Token token(JsonNode v, Path file, String role) {
        if (v.isTextual()) return Token.plain(v.asText());
        if (v.isObject() && v.hasNonNull("content")) {
            return new Token(v.get("content").asText(), v.path("single_word").asBoolean(false), v.path("lstrip").asBoolean(false),
                    v.path("rstrip").asBoolean(false), v.path("normalized").asBoolean(true));
        }
        throw new IllegalArgumentException(file + ": \"" + role + "\" is neither a string nor an object with \"content\": " + v);
    }

    /** The JSON object in the file, an empty object when the file does not exist, an error naming the file otherwise. */
    static JsonNode readObject(Path file) {
        if (!Files.exists(file)) return JSON.createObjectNode();
        try {
            JsonNode root = JSON.readTree(file.toFile());
            if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": not a JSON object");
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
