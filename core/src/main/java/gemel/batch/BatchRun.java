package gemel.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What makes the results of a batch run (an evaluation, a file of mentions to link) comparable: the {@code settings}
 * that decide them (the command and its options, the files by name and size, so that copies on other machines
 * match), the number of {@code records} of the whole job, and the {@code shard} of them a run takes. An interrupted
 * run resumes only its own journal, and shards merge only with shards of the same settings and records.
 */
public record BatchRun(Map<String, String> settings, int records, Shard shard) {
    public BatchRun {
        settings = Collections.unmodifiableMap(new TreeMap<>(settings));
        if (records < 0) throw new IllegalArgumentException("records " + records + " < 0");
        Objects.requireNonNull(shard);
    }

    /** How many results this run makes. */
    public int size() { return shard.size(records); }

    /** Why {@code other} is a run of another job (the first setting that differs, both ways), or null if it is this one's. */
    public String differenceFrom(BatchRun other) {
        String settingsDiffer = settingsDifferFrom(other);
        if (settingsDiffer != null) return settingsDiffer;
        if (records != other.records) return "the job has " + other.records + " records there, " + records + " here";
        if (!shard.equals(other.shard)) return "shard " + other.shard + " there, " + shard + " here";
        return null;
    }

    /** The first setting that differs between the two (the command before any option), as "--option: A there, B here", or null. */
    String settingsDifferFrom(BatchRun other) {
        List<String> names = new ArrayList<>(List.of("command"));
        TreeMap<String, String> options = new TreeMap<>(settings);
        options.putAll(other.settings);
        options.remove("command");
        names.addAll(options.keySet());
        for (String name : names) {
            String here = settings.get(name), there = other.settings.get(name);
            if (!Objects.equals(here, there)) return name + ": " + (there == null ? "not set" : there) + " there, " + (here == null ? "not set" : here) + " here";
        }
        return null;
    }

    /** Adds {@code line} to {@code lines}, or an error naming {@code where} when its record is not this run's or is there already. */
    void add(SortedMap<Integer, ResultLine> lines, ResultLine line, String where) {
        if (line.index() >= records || !shard.holds(line.index()))
            throw new IllegalArgumentException(where + ": record " + line.index() + " is not one of shard " + shard + " of " + records);
        if (lines.putIfAbsent(line.index(), line) != null) throw new IllegalArgumentException(where + ": record " + line.index() + " again");
    }

    ObjectNode toJson() {
        ObjectNode node = JsonNodeFactory.instance.objectNode().put("records", records).put("shard", shard.toString());
        ObjectNode s = node.putObject("settings");
        settings.forEach(s::put);
        return node;
    }

    /** The run written by {@link #toJson} into {@code node}; {@code where} names it in errors. */
    static BatchRun fromJson(JsonNode node, String where) {
        JsonNode records = node.get("records"), shard = node.get("shard"), settings = node.get("settings");
        if (records == null || !records.canConvertToInt() || shard == null || !shard.isTextual() || settings == null || !settings.isObject())
            throw new IllegalArgumentException(where + ": no records, shard and settings of a batch run");
        Map<String, String> values = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = settings.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            values.put(e.getKey(), e.getValue().asText());
        }
        return new BatchRun(values, records.asInt(), Shard.parse(shard.asText()));
    }
}
