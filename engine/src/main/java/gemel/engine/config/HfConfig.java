package gemel.engine.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A Hugging Face {@code config.json}: typed reads that name the key and the file when something is off. */
public final class HfConfig {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final JsonNode root;

    private HfConfig(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    /** Reads {@code dir/config.json}. */
    public static HfConfig load(Path dir) {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no config.json in " + dir);
        try {
            JsonNode root = JSON.readTree(file.toFile());
            if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": not a JSON object");
            return new HfConfig(file, root);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static HfConfig of(Path file, JsonNode root) { return new HfConfig(file, root); }

    public Path file() { return file; }

    public JsonNode json() { return root; }

    /** The first entry of {@code architectures}, e.g. {@code OPTForCausalLM}. */
    public String architecture() {
        JsonNode a = root.get("architectures");
        if (a != null && a.isArray() && !a.isEmpty()) return a.get(0).asText();
        throw new IllegalArgumentException(file + ": no \"architectures\" entry");
    }

    public String modelType() { return string("model_type", ""); }

    public boolean has(String key) { return root.hasNonNull(key); }

    /** Reads the config nested under {@code key} (e.g. CLIP's {@code vision_config}); empty when absent. */
    public HfConfig sub(String key) {
        JsonNode n = root.get(key);
        return new HfConfig(file, n != null && n.isObject() ? n : JSON.createObjectNode());
    }

    public int integer(String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull() || !n.canConvertToInt()) throw new IllegalArgumentException(file + ": missing or non-integer \"" + key + "\"");
        return n.asInt();
    }

    public int integer(String key, int fallback) { return has(key) ? integer(key) : fallback; }

    public double number(String key) {
        JsonNode n = root.get(key);
        if (n == null || !n.isNumber()) throw new IllegalArgumentException(file + ": missing or non-numeric \"" + key + "\"");
        return n.asDouble();
    }

    public double number(String key, double fallback) { return has(key) ? number(key) : fallback; }

    public boolean bool(String key, boolean fallback) {
        JsonNode n = root.get(key);
        return n == null || n.isNull() ? fallback : n.asBoolean();
    }

    public String string(String key, String fallback) {
        JsonNode n = root.get(key);
        return n == null || n.isNull() ? fallback : n.asText();
    }
}
