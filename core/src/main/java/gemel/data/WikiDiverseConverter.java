package gemel.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Converts WikiDiverse as its authors publish it into the reference's records. Each split file is a JSON
 * array of {@code [text, image url, topic, [[mention, type, start, end, wikipedia url], ...]]}; every
 * mention becomes one record with the image URL as key, gold = the Wikipedia URL, and target = the page
 * title taken from the URL (percent-decoded, underscores as spaces). A mention whose URL is null, empty or
 * "nil" gets gold {@value MelExample#NIL}.
 */
public final class WikiDiverseConverter {
    private static final String WIKI_PATH = "/wiki/";

    private WikiDiverseConverter() {}

    /** @param splitFiles split name to its JSON file, in output order */
    public static ConvertedData convert(Map<String, Path> splitFiles) throws IOException {
        Map<String, List<MelExample>> out = new LinkedHashMap<>();
        Map<String, Integer> sourceRecords = new LinkedHashMap<>();
        for (Map.Entry<String, Path> split : splitFiles.entrySet()) {
            Path file = split.getValue();
            JsonNode records = JsonFiles.requireArray(JsonFiles.read(file), file.toString());
            List<MelExample> examples = new ArrayList<>();
            for (int i = 0; i < records.size(); i++) {
                String where = file + ": record " + i;
                JsonNode r = JsonFiles.requireArray(records.get(i), where);
                if (r.size() < 4) throw new IllegalArgumentException(where + ": expected [text, image url, topic, mentions]");
                String text = JsonFiles.requireText(r.get(0), where + " text");
                String imageUrl = JsonFiles.requireText(r.get(1), where + " image url");
                JsonNode mentions = JsonFiles.requireArray(r.get(3), where + " mentions");
                for (int m = 0; m < mentions.size(); m++) {
                    String at = where + " mention " + m;
                    JsonNode mention = JsonFiles.requireArray(mentions.get(m), at);
                    if (mention.size() < 5)
                        throw new IllegalArgumentException(at + ": expected [mention, type, start, end, url]");
                    JsonNode url = mention.get(4);
                    String golden = isNil(url) ? MelExample.NIL : url.asText();
                    examples.add(new MelExample(text, JsonFiles.requireText(mention.get(0), at + " surface form"),
                            imageUrl, MelExample.ImageKeyKind.URL, golden,
                            golden.equals(MelExample.NIL) ? MelExample.NIL : title(golden, at)));
                }
            }
            out.put(split.getKey(), examples);
            sourceRecords.put(split.getKey(), records.size());
        }
        return new ConvertedData(out, sourceRecords, null, List.of());
    }

    private static boolean isNil(JsonNode url) {
        if (url == null || url.isNull()) return true;
        if (!url.isTextual()) return false;
        String s = url.asText().trim().toLowerCase(Locale.ROOT);
        return s.isEmpty() || s.equals("nil");
    }

    /** {@code https://en.wikipedia.org/wiki/Green_Bay_Packers} -> {@code Green Bay Packers}. */
    public static String title(String url, String where) {
        int at = url.indexOf(WIKI_PATH);
        if (at < 0 || at + WIKI_PATH.length() == url.length())
            throw new IllegalArgumentException(where + ": not a Wikipedia page URL: " + url);
        return PercentDecoding.decode(url.substring(at + WIKI_PATH.length())).replace('_', ' ');
    }
}
