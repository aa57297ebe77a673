package gemel.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.data.MelReadReport.Issue;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On the real WikiMEL text in ../shared: the counts its README states. */
class WikiMelConverterTest {
    private static final Path WIKIMEL = Path.of(System.getProperty("gemel.shared", "../shared"), "data", "wikimel");
    private static ConvertedData converted;

    @BeforeAll
    static void convert() throws IOException {
        converted = WikiMelConverter.convert(WIKIMEL.resolve("Wikidata-MEL.json"), WIKIMEL.resolve("splits.json"),
                WIKIMEL.resolve("qid2ne.json"), WIKIMEL.resolve("qid2abs.json"));
    }

    @Test
    void countsMatchTheDataReadme() {
        int records = converted.sourceRecords().values().stream().mapToInt(Integer::intValue).sum();
        assertEquals(22_136, records);
        assertEquals(25_846, converted.mentionCount());
        assertEquals(18_880, converted.knowledgeBase().size());
        assertEquals(List.of("train", "test", "dev"), List.copyOf(converted.splits().keySet()));
        // per split: records / mentions (every record is in exactly one split)
        assertEquals(15_511, converted.sourceRecords().get("train"));
        assertEquals(18_088, converted.splits().get("train").size());
        assertEquals(2_213, converted.sourceRecords().get("dev"));
        assertEquals(2_627, converted.splits().get("dev").size());
        assertEquals(4_412, converted.sourceRecords().get("test"));
        assertEquals(5_131, converted.splits().get("test").size());
        long notVerbatim = converted.splits().values().stream().flatMap(List::stream).filter(e -> !e.mentionInText()).count();
        assertEquals(740, notVerbatim);
        // splits.json lists 17,091 + 2,443 + 4,883 = 24,417 ids, 2,281 more than there are records
        assertEquals(List.of("2281 image ids listed in splits.json have no record in Wikidata-MEL.json"), converted.notes());
    }

    @Test
    void recordsKeepIdsNamesAndImageNames() {
        List<MelExample> all = converted.splits().values().stream().flatMap(List::stream).toList();
        List<MelExample> powers = all.stream().filter(e -> e.imageKey().equals("46351.jpg")).toList();
        assertEquals(List.of(
                new MelExample("Powers with Noel Harrison in The Girl from U.N.C.L.E.", "Noel Harrison", "46351.jpg",
                        MelExample.ImageKeyKind.NAME, "Q532915", "Noel Harrison"),
                new MelExample("Powers with Noel Harrison in The Girl from U.N.C.L.E.", "Powers", "46351.jpg",
                        MelExample.ImageKeyKind.NAME, "Q256474", "Stefanie Powers")), powers);
        KnowledgeBase kb = converted.knowledgeBase();
        for (MelExample e : all) assertEquals(e.target(), kb.byId(e.golden()).orElseThrow().name());
        assertTrue(kb.byId("Q1000070").orElseThrow().description().startsWith("Sex: male. Birth: 1900, Erie."));
    }

    @Test
    void writtenFilesReadBackWithTheStrictReader(@TempDir Path out) throws IOException {
        List<Path> files = converted.write(out);
        assertEquals(4, files.size());
        int notVerbatim = 0;
        for (String split : List.of("train", "dev", "test")) {
            MelDataset back = MelJsonlReader.strict().read(out.resolve(split + ".jsonl"));
            assertEquals(converted.splits().get(split), back.examples());
            assertEquals(0, back.report().badLines());
            notVerbatim += back.report().count(Issue.MENTION_NOT_IN_TEXT);
        }
        assertEquals(740, notVerbatim);
        assertEquals(converted.knowledgeBase().entities(), KnowledgeBase.read(out.resolve("kb.jsonl")).entities());
    }
}
