package gemel.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.io.AtomicFile;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The entities a mention may link to, immutable once built.
 *
 * <p>File format by extension: {@code .jsonl} / {@code .json} are JSON lines
 * {@code {"id": ..., "name": ..., "description": ...}} (description optional); {@code .tsv} is
 * {@code id<TAB>name[<TAB>description]}; anything else is one name per line, the name being its own id.
 * Blank lines carry no entity and are skipped; anything else that is not an entity is an error naming the
 * file and line.
 *
 * <p>Ids are unique (a repeated id is an error). Names may repeat, since two entities can share a title:
 * {@link #byName} returns every entity with that name in file order, so a generated name that is shared
 * stays visibly ambiguous instead of being resolved silently; {@link #names()} lists each name once.
 */
public final class KnowledgeBase {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<KbEntity> entities;                 // file order
    private final Map<String, KbEntity> byId;
    private final Map<String, List<KbEntity>> byName;      // insertion order = first appearance

    private KnowledgeBase(List<KbEntity> entities, String source) {
        this.entities = List.copyOf(entities);
        Map<String, KbEntity> ids = new HashMap<>(entities.size() * 2);
        Map<String, List<KbEntity>> names = new LinkedHashMap<>(entities.size() * 2);
        for (int i = 0; i < entities.size(); i++) {
            KbEntity e = entities.get(i);
            KbEntity before = ids.putIfAbsent(e.id(), e);
            if (before != null)
                throw new IllegalArgumentException(source + ": entity id '" + e.id() + "' appears twice (entries "
                        + (this.entities.indexOf(before) + 1) + " and " + (i + 1) + ")");
            names.computeIfAbsent(e.name(), k -> new ArrayList<>(1)).add(e);
        }
        names.replaceAll((k, v) -> List.copyOf(v));
        this.byId = ids;
        this.byName = names;
    }

    /** A knowledge base of these entities; {@code source} names them in errors. */
    public static KnowledgeBase of(List<KbEntity> entities, String source) { return new KnowledgeBase(entities, source); }

    /** Reads a file in the format its extension implies (see the class comment). */
    public static KnowledgeBase read(Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        List<KbEntity> entities = new ArrayList<>();
        int lineNo = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = in.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) continue;
                try {
                    entities.add(name.endsWith(".jsonl") || name.endsWith(".json") ? parseJson(line)
                            : name.endsWith(".tsv") ? parseTsv(line)
                            : new KbEntity(line, line, null));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + " line " + lineNo + ": " + e.getMessage(), e);
                }
            }
        }
        return new KnowledgeBase(entities, file.toString());
    }

    private static KbEntity parseJson(String line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("malformed JSON (" + e.getOriginalMessage() + ")");
        }
        if (node == null || !node.isObject()) throw new IllegalArgumentException("not a JSON object");
        String id = text(node, "id");
        String name = text(node, "name");
        JsonNode description = node.get("description");
        if (description != null && !description.isNull() && !description.isTextual())
            throw new IllegalArgumentException("field 'description' is not text");
        return new KbEntity(id, name, description == null || description.isNull() ? null : description.asText());
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) throw new IllegalArgumentException("missing text field '" + field + "'");
        return value.asText();
    }

    private static KbEntity parseTsv(String line) {
        String[] cols = line.split("\t", -1);
        if (cols.length < 2 || cols.length > 3)
            throw new IllegalArgumentException("expected id<TAB>name[<TAB>description], found " + cols.length + " column(s)");
        return new KbEntity(cols[0], cols[1], cols.length == 3 ? cols[2] : null);
    }

    /** Writes JSON lines (atomically), entities in order. */
    public void writeJsonl(Path file) throws IOException {
        AtomicFile.writeStream(file, out -> {
            for (KbEntity e : entities) {
                ObjectNode node = JSON.createObjectNode();
                node.put("id", e.id());
                node.put("name", e.name());
                if (e.description() != null) node.put("description", e.description());
                out.write(JSON.writeValueAsBytes(node));
                out.write('\n');
            }
        });
    }

    public int size() { return entities.size(); }

    /** All entities in file order. */
    public List<KbEntity> entities() { return entities; }

    public Optional<KbEntity> byId(String id) { return Optional.ofNullable(byId.get(id)); }

    /** Every entity with exactly this name, in file order; empty when none. */
    public List<KbEntity> byName(String name) { return byName.getOrDefault(name, List.of()); }

    /** Each distinct name once, in order of first appearance (what a prefix tree of names is built from). */
    public List<String> names() { return List.copyOf(byName.keySet()); }
}
