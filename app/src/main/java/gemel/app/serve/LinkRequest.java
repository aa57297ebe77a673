package gemel.app.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One mention to link as a client sent it: {@code {"text", "mention", "image_key"?, "image_base64"?, "top_k"?}}.
 * {@code image} holds the decoded bytes of {@code image_base64} (plain base64 or a {@code data:} URL), null
 * when not given. Checked field by field; an error names the field by its path ({@code prefix} + name).
 */
record LinkRequest(String text, String mention, String imageKey, byte[] image, int topK, String where) {
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    static final Set<String> FIELDS = Set.of("text", "mention", "image_key", "image_base64", "top_k");

    /** Reads one request object; {@code where} is the JSON path of the object ("" for the top level, "[3]" in a batch). */
    static LinkRequest parse(JsonNode node, String where, ServerSettings settings) throws HttpProblem {
        if (node == null || !node.isObject())
            throw HttpProblem.badRequest(where.isEmpty() ? "body" : where, "expected a JSON object {\"text\", \"mention\", ...}");
        for (var names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name))
                throw HttpProblem.badRequest(path(where, name), "unknown field '" + name + "' (known: text, mention, image_key, image_base64, top_k)");
        }
        String text = requiredText(node, where, "text");
        String mention = requiredText(node, where, "mention");
        String imageKey = optionalText(node, where, "image_key");
        String encoded = optionalText(node, where, "image_base64");
        if (imageKey != null && encoded != null)
            throw HttpProblem.badRequest(path(where, "image_base64"), "give image_key or image_base64, not both");
        return new LinkRequest(text, mention, imageKey, encoded == null ? null : decodeBase64(encoded, path(where, "image_base64")),
                topK(node, where, settings), where);
    }

    /** The JSON path of {@code field} of this request, as errors name it. */
    String field(String field) { return path(where, field); }

    /** Remarks about a request that is linked anyway (a mention that is not in its text links, but is likely a mistake). */
    List<String> warnings() {
        List<String> out = new ArrayList<>();
        if (!text.contains(mention)) out.add(field("mention") + ": '" + mention + "' does not occur in the text");
        return out;
    }

    private static String path(String where, String field) { return where.isEmpty() ? field : where + "." + field; }

    private static String requiredText(JsonNode node, String where, String field) throws HttpProblem {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) throw HttpProblem.badRequest(path(where, field), "missing field '" + field + "'");
        if (!v.isTextual()) throw HttpProblem.badRequest(path(where, field), "'" + field + "' must be a string, got " + v.getNodeType());
        if (v.asText().isBlank()) throw HttpProblem.badRequest(path(where, field), "'" + field + "' is empty");
        return v.asText();
    }

    private static String optionalText(JsonNode node, String where, String field) throws HttpProblem {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : requiredText(node, where, field);
    }

    private static int topK(JsonNode node, String where, ServerSettings settings) throws HttpProblem {
        JsonNode v = node.get("top_k");
        if (v == null || v.isNull()) return settings.defaultTopK();
        if (!v.canConvertToExactIntegral() || !v.canConvertToInt() || v.asInt() < 1 || v.asInt() > settings.maxTopK())
            throw HttpProblem.badRequest(path(where, "top_k"), "'top_k' must be an integer in 1.." + settings.maxTopK() + " (the beam width), got " + v);
        return v.asInt();
    }

    /** Plain base64 (whitespace and line breaks allowed) or a data URL {@code data:image/...;base64,...}. */
    private static byte[] decodeBase64(String encoded, String field) throws HttpProblem {
        String payload = encoded;
        if (payload.startsWith("data:")) {
            int comma = payload.indexOf(',');
            if (comma < 0 || !payload.substring(0, comma).endsWith(";base64"))
                throw HttpProblem.badRequest(field, "a data URL must be base64-encoded (data:image/...;base64,...)");
            payload = payload.substring(comma + 1);
        }
        try {
            return Base64.getDecoder().decode(WHITESPACE.matcher(payload).replaceAll(""));
        } catch (IllegalArgumentException e) {
            throw HttpProblem.badRequest(field, "not valid base64: " + e.getMessage());
        }
    }
}
