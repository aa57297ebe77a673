package gemel.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Converts WikiMEL as published (MELBench's {@code Wikidata-MEL.json}: records keyed by image id with
 * {@code sentence} and parallel lists {@code mentions}, {@code entities}, {@code answer}; plus
 * {@code splits.json}) into one record per mention: image name {@code <id>.jpg}, gold = the QID,
 * target = the entity name. Splits keep the order of {@code splits.json}; mentions keep their order.
 * Optionally builds the knowledge base from {@code qid2ne.json} (names) and {@code qid2abs.json}
 * (descriptions).
 */
public final class WikiMelConverter {
    private WikiMelConverter() {}

    /**
     * @param data     {@code Wikidata-MEL.json}
     * @param splits   {@code splits.json}: split name to list of image ids
     * @param qid2ne   {@code qid2ne.json} or null for no knowledge base
     * @param qid2abs  {@code qid2abs.json} or null for no descriptions
     */
    public static ConvertedData convert(Path data, Path splits, Path qid2ne, Path qid2abs) throws IOException {
        JsonNode records = JsonFiles.requireObject(JsonFiles.read(data), data.toString());
        JsonNode splitLists = JsonFiles.requireObject(JsonFiles.read(splits), splits.toString());

        Map<String, List<MelExample>> out = new LinkedHashMap<>();
        Map<String, Integer> sourceRecords = new LinkedHashMap<>();
        Map<String, String> splitOf = new HashMap<>();
        int idsWithoutRecord = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = splitLists.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> split = it.next();
            String where = splits + ": split '" + split.getKey() + "'";
            List<MelExample> examples = new ArrayList<>();
            int used = 0;
            for (JsonNode idNode : JsonFiles.requireArray(split.getValue(), where)) {
                String id = JsonFiles.requireText(idNode, where + " id");
                String before = splitOf.put(id, split.getKey());
                if (before != null)
                    throw new IllegalArgumentException(splits + ": image id " + id + " is in both '" + before
                            + "' and '" + split.getKey() + "'");
                JsonNode record = records.get(id);
                if (record == null) {
                    idsWithoutRecord++;
                    continue;
                }
                used++;
                addMentions(record, data + ": record " + id, id, examples);
            }
            out.put(split.getKey(), examples);
            sourceRecords.put(split.getKey(), used);
        }

        List<String> notes = new ArrayList<>();
        if (idsWithoutRecord > 0)
            notes.add(idsWithoutRecord + " image ids listed in " + splits.getFileName() + " have no record in "
                    + data.getFileName());
        List<String> unsplit = new ArrayList<>();
        for (Iterator<String> it = records.fieldNames(); it.hasNext(); ) {
            String id = it.next();
            if (!splitOf.containsKey(id)) unsplit.add(id);
        }
        if (!unsplit.isEmpty())
            notes.add(unsplit.size() + " records are in no split and were left out (first: "
                    + String.join(", ", unsplit.subList(0, Math.min(5, unsplit.size()))) + ")");

        KnowledgeBase kb = qid2ne == null ? null : knowledgeBase(qid2ne, qid2abs);
        if (kb != null) {
            Set<String> missing = new HashSet<>();
            for (List<MelExample> split : out.values())
                for (MelExample e : split) if (kb.byId(e.golden()).isEmpty()) missing.add(e.golden());
            if (!missing.isEmpty()) notes.add(missing.size() + " gold QIDs are not in " + qid2ne.getFileName());
        }
        return new ConvertedData(out, sourceRecords, kb, notes);
    }

    private static void addMentions(JsonNode record, String where, String id, List<MelExample> into) {
        JsonFiles.requireObject(record, where);
        String sentence = JsonFiles.requireText(record.get("sentence"), where + " sentence");
        JsonNode mentions = JsonFiles.requireArray(record.get("mentions"), where + " mentions");
        JsonNode entities = JsonFiles.requireArray(record.get("entities"), where + " entities");
        JsonNode answers = JsonFiles.requireArray(record.get("answer"), where + " answer");
        if (mentions.size() != entities.size() || mentions.size() != answers.size())
            throw new IllegalArgumentException(where + ": mentions, entities and answer have different lengths ("
                    + mentions.size() + ", " + entities.size() + ", " + answers.size() + ")");
        for (int i = 0; i < mentions.size(); i++) {
            into.add(new MelExample(sentence,
                    JsonFiles.requireText(mentions.get(i), where + " mentions[" + i + "]"),
                    id + ".jpg", MelExample.ImageKeyKind.NAME,
                    JsonFiles.requireText(answers.get(i), where + " answer[" + i + "]"),
                    JsonFiles.requireText(entities.get(i), where + " entities[" + i + "]")));
        }
    }

    /** Entities of {@code qid2ne.json} in file order, described by {@code qid2abs.json} when given. */
    public static KnowledgeBase knowledgeBase(Path qid2ne, Path qid2abs) throws IOException {
        JsonNode names = JsonFiles.requireObject(JsonFiles.read(qid2ne), qid2ne.toString());
        JsonNode descriptions = qid2abs == null ? null : JsonFiles.requireObject(JsonFiles.read(qid2abs), qid2abs.toString());
        List<KbEntity> entities = new ArrayList<>(names.size());
        for (Iterator<Map.Entry<String, JsonNode>> it = names.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = JsonFiles.requireText(e.getValue(), qid2ne + ": " + e.getKey());
            JsonNode description = descriptions == null ? null : descriptions.get(e.getKey());
            if (description != null && !description.isTextual())
                throw new IllegalArgumentException(qid2abs + ": " + e.getKey() + ": expected text");
            entities.add(new KbEntity(e.getKey(), name, description == null ? null : description.asText()));
        }
        return KnowledgeBase.of(entities, qid2ne.toString());
    }
}
