package gemel.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** MIMIC-style and WikiDiverse layouts, on small files written as their publishers lay them out. */
class OtherConvertersTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        return f;
    }

    @Test
    void wikiDiverseRecordsBecomeOneLinePerMentionWithUrlGoldAndTitleTarget() throws IOException {
        Path train = write("train.json", """
                [["The Lions versus the Packers (2007).",
                  "https://upload.wikimedia.org/wikipedia/commons/0/06/DetroitLionsRunningPlay-2007.jpg",
                  "sports",
                  [["Lions", "Organization", 4, 9, "https://en.wikipedia.org/wiki/Detroit_Lions"],
                   ["Packers", "Organization", 21, 28, "https://en.wikipedia.org/wiki/Green_Bay_Packers"]]],
                 ["Lunch at Café de Flore in C++ land.", "https://u/img%20two.png", "news",
                  [["Café de Flore", "Location", 9, 22, "https://en.wikipedia.org/wiki/Caf%C3%A9_de_Flore"],
                   ["C++", "Other", 26, 29, "https://en.wikipedia.org/wiki/C%2B%2B"],
                   ["land", "Location", 30, 34, null]]]]
                """);
        Path test = write("test.json", "[]");
        Map<String, Path> splits = new LinkedHashMap<>();
        splits.put("train", train);
        splits.put("test", test);
        ConvertedData data = WikiDiverseConverter.convert(splits);

        List<MelExample> t = data.splits().get("train");
        assertEquals(5, t.size());
        assertEquals(new MelExample("The Lions versus the Packers (2007).", "Lions",
                "https://upload.wikimedia.org/wikipedia/commons/0/06/DetroitLionsRunningPlay-2007.jpg",
                MelExample.ImageKeyKind.URL, "https://en.wikipedia.org/wiki/Detroit_Lions", "Detroit Lions"), t.get(0));
        assertEquals("Green Bay Packers", t.get(1).target());
        assertEquals("Café de Flore", t.get(2).target());
        assertEquals("https://en.wikipedia.org/wiki/Caf%C3%A9_de_Flore", t.get(2).golden());
        assertEquals("C++", t.get(3).target());
        assertTrue(t.get(4).isNil());
        assertEquals(2, data.sourceRecords().get("train"));
        assertEquals(0, data.splits().get("test").size());
        assertTrue(data.report().contains("total"), data.report());
    }

    @Test
    void wikiDiverseRejectsANonWikipediaUrlNamingTheRecord() throws IOException {
        Path bad = write("bad.json", "[[\"t\", \"u\", \"x\", [[\"m\", \"PER\", 0, 1, \"https://example.org/page\"]]]]");
        var e = assertThrows(IllegalArgumentException.class, () -> WikiDiverseConverter.convert(Map.of("train", bad)));
        assertTrue(e.getMessage().contains("bad.json: record 0 mention 0: not a Wikipedia page URL"), e.getMessage());
    }

    @Test
    void mimicRecordsKeepTheQidAndTakeNamesFromEntitiesOrTheKnowledgeBase() throws IOException {
        Path kbFile = write("kb_entity.json", """
                [{"id": 0, "qid": "Q209518", "type": "entity", "entity_name": "Wayne%20Gretzky", "attr": "Sex: male.", "image_list": []},
                 {"id": 1, "qid": "Q3132470", "type": "entity", "entity_name": "Janet Jones", "attr": "", "image_list": []}]
                """);
        Path train = write("WIKIMEL_train.json", """
                [{"id": "43835-0", "sentence": "Janet & Wayne Gretzky in December 2013.", "imgPath": "WikiMEL/mention_image/43835.jpg",
                  "mentions": "Wayne%20Gretzky", "entities": "Wayne Gretzky", "answer": "Q209518"},
                 {"id": "43835-1", "sentence": "Janet & Wayne Gretzky in December 2013.", "imgPath": "43835.jpg",
                  "mentions": "Janet", "answer": "Q3132470"},
                 {"id": "9", "sentence": "Someone unknown.", "imgPath": "9.png", "mentions": "Someone", "entities": "", "answer": "nil"},
                 {"id": "10", "sentence": "No picture.", "imgPath": "", "mentions": "picture", "entities": "Picture", "answer": "Q1"}]
                """);
        ConvertedData data = MimicConverter.convert(Map.of("train", train), kbFile);
        List<MelExample> t = data.splits().get("train");
        assertEquals(3, t.size());
        assertEquals(new MelExample("Janet & Wayne Gretzky in December 2013.", "Wayne Gretzky", "43835.jpg",
                MelExample.ImageKeyKind.NAME, "Q209518", "Wayne Gretzky"), t.get(0));
        assertEquals("Janet Jones", t.get(1).target());
        assertTrue(t.get(2).isNil());
        assertEquals(4, data.sourceRecords().get("train"));
        assertEquals(List.of("train: 1 records without an image (empty imgPath) left out"), data.notes());
        assertEquals("Wayne Gretzky", data.knowledgeBase().byId("Q209518").orElseThrow().name());
        assertEquals(null, data.knowledgeBase().byId("Q3132470").orElseThrow().description());
    }

    @Test
    void percentDecodingFollowsPythonUnquote() {
        assertEquals("Café de Flore", PercentDecoding.decode("Caf%C3%A9 de Flore"));
        assertEquals("a+b", PercentDecoding.decode("a+b"));
        assertEquals("100% sure %zz %4", PercentDecoding.decode("100% sure %zz %4"));
        assertEquals("C++", PercentDecoding.decode("C%2b%2B"));
        assertEquals("\uFFFD!", PercentDecoding.decode("%C3!"));
    }
}
