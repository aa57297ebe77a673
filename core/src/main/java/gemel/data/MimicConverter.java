package gemel.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts MIMIC-style files (the cleaned WikiMEL / RichpediaMEL / WikiDiverse of the MIMIC code base)
 * into the reference's records. Each split file is a JSON array of one object per mention:
 * {@code id}, {@code sentence}, {@code imgPath}, {@code mentions} (one mention, percent-encoded),
 * {@code entities} (its entity name), {@code answer} (the QID, or {@code "nil"}). The knowledge base
 * {@code kb_entity.json} is a JSON array of {@code {"id": row, "qid": ..., "entity_name": ..., "attr": ...}}.
 *
 * <p>The image name is the last path segment of {@code imgPath}. A record with an empty {@code imgPath}
 * has no image and is left out (counted in the notes). {@code "nil"} answers become {@value MelExample#NIL}.
 * When a record has no (or an empty) {@code entities}, the target is the knowledge base's name of its answer
 * ({@value MelExample#NIL} for a NIL answer).
 */
public final class MimicConverter {
    private MimicConverter() {}

    /**
     * @param splitFiles split name to its JSON file, in output order
     * @param kbEntities {@code kb_entity.json}, or null
     */
    public static ConvertedData convert(Map<String, Path> splitFiles, Path kbEntities) throws IOException {
        KnowledgeBase kb = kbEntities == null ? null : knowledgeBase(kbEntities);
        Map<String, List<MelExample>> out = new LinkedHashMap<>();
        Map<String, Integer> sourceRecords = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        for (Map.Entry<String, Path> split : splitFiles.entrySet()) {
            Path file = split.getValue();
            JsonNode records = JsonFiles.requireArray(JsonFiles.read(file), file.toString());
            List<MelExample> examples = new ArrayList<>(records.size());
            int withoutImage = 0;
            for (int i = 0; i < records.size(); i++) {
                String where = file + ": record " + i;
                JsonNode r = JsonFiles.requireObject(records.get(i), where);
                JsonNode imgPath = r.get("imgPath");
                if (imgPath == null || !imgPath.isTextual())
                    throw new IllegalArgumentException(where + " imgPath: expected text");
                if (imgPath.asText().isEmpty()) {
                    withoutImage++;
                    continue;
                }
                String answer = JsonFiles.requireText(r.get("answer"), where + " answer");
                String golden = answer.equalsIgnoreCase("nil") ? MelExample.NIL : answer;
                examples.add(new MelExample(
                        JsonFiles.requireText(r.get("sentence"), where + " sentence"),
                        PercentDecoding.decode(JsonFiles.requireText(r.get("mentions"), where + " mentions")),
                        lastSegment(imgPath.asText()), MelExample.ImageKeyKind.NAME,
                        golden, target(r, golden, kb, where)));
            }
            out.put(split.getKey(), examples);
            sourceRecords.put(split.getKey(), records.size());
            if (withoutImage > 0)
                notes.add(split.getKey() + ": " + withoutImage + " records without an image (empty imgPath) left out");
        }
        return new ConvertedData(out, sourceRecords, kb, notes);
    }

    private static String target(JsonNode record, String golden, KnowledgeBase kb, String where) {
        JsonNode entities = record.get("entities");
        boolean named = entities != null && !entities.isNull() && !(entities.isTextual() && entities.asText().isEmpty());
        if (golden.equals(MelExample.NIL)) return named ? entities.asText() : MelExample.NIL;
        if (named) return JsonFiles.requireText(entities, where + " entities");
        if (kb == null)
            throw new IllegalArgumentException(where + ": no 'entities' field and no knowledge base to name " + golden);
        return kb.byId(golden).orElseThrow(() -> new IllegalArgumentException(
                where + ": answer " + golden + " is not in the knowledge base")).name();
    }

    private static String lastSegment(String path) {
        return path.substring(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
    }

    /** {@code kb_entity.json}: id = {@code qid}, name = decoded {@code entity_name}, description = {@code attr}. */
    public static KnowledgeBase knowledgeBase(Path file) throws IOException {
        JsonNode rows = JsonFiles.requireArray(JsonFiles.read(file), file.toString());
        List<KbEntity> entities = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            String where = file + ": entity " + i;
            JsonNode row = JsonFiles.requireObject(rows.get(i), where);
            JsonNode attr = row.get("attr");
            entities.add(new KbEntity(
                    JsonFiles.requireText(row.get("qid"), where + " qid"),
                    PercentDecoding.decode(JsonFiles.requireText(row.get("entity_name"), where + " entity_name")),
                    attr == null || attr.isNull() || attr.asText().isEmpty() ? null : attr.asText()));
        }
        return KnowledgeBase.of(entities, file.toString());
    }
}
