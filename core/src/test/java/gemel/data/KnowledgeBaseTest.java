package gemel.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KnowledgeBaseTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        return f;
    }

    @Test
    void jsonLinesWithOptionalDescription() throws IOException {
        for (String ext : List.of("kb.jsonl", "kb.json")) {
            KnowledgeBase kb = KnowledgeBase.read(write(ext, """
                    {"id": "Q1001", "name": "Mahatma Gandhi", "description": "Sex: male. Birth: 1869."}
                    {"id": "Q17717", "name": "Oscar Robertson"}

                    {"id": "Q99", "name": "Mahatma Gandhi", "description": null}
                    """));
            assertEquals(3, kb.size());
            assertEquals("Sex: male. Birth: 1869.", kb.byId("Q1001").orElseThrow().description());
            assertNull(kb.byId("Q17717").orElseThrow().description());
            assertEquals(List.of("Q1001", "Q99"), kb.byName("Mahatma Gandhi").stream().map(KbEntity::id).toList());
            assertEquals(List.of("Mahatma Gandhi", "Oscar Robertson"), kb.names());
            assertTrue(kb.byName("Nobody").isEmpty());
            assertTrue(kb.byId("Q2").isEmpty());
        }
    }

    @Test
    void tabSeparatedWithTwoOrThreeColumns() throws IOException {
        KnowledgeBase kb = KnowledgeBase.read(write("kb.tsv", "Q1\tAlpha\tfirst letter\nQ2\tBeta\n"));
        assertEquals(new KbEntity("Q1", "Alpha", "first letter"), kb.byId("Q1").orElseThrow());
        assertEquals(new KbEntity("Q2", "Beta", null), kb.byId("Q2").orElseThrow());
    }

    @Test
    void anyOtherExtensionIsOneNamePerLineWithTheNameAsId() throws IOException {
        KnowledgeBase kb = KnowledgeBase.read(write("names.txt", "Will Rogers\nCharles L. Smith (Seattle politician)\n"));
        assertEquals(2, kb.size());
        assertEquals("Will Rogers", kb.byId("Will Rogers").orElseThrow().name());
        assertEquals(List.of("Will Rogers", "Charles L. Smith (Seattle politician)"), kb.names());
    }

    @Test
    void errorsNameFileAndLine() throws IOException {
        Path tsv = write("bad.tsv", "Q1\tAlpha\nQ2\n");
        var e = assertThrows(IllegalArgumentException.class, () -> KnowledgeBase.read(tsv));
        assertTrue(e.getMessage().contains("bad.tsv line 2"), e.getMessage());

        Path json = write("bad.jsonl", "{\"id\": \"Q1\", \"name\": \"A\"}\n{\"id\": \"Q2\"}\n");
        e = assertThrows(IllegalArgumentException.class, () -> KnowledgeBase.read(json));
        assertTrue(e.getMessage().contains("bad.jsonl line 2: missing text field 'name'"), e.getMessage());

        Path dup = write("dup.tsv", "Q1\tA\nQ2\tB\nQ1\tC\n");
        e = assertThrows(IllegalArgumentException.class, () -> KnowledgeBase.read(dup));
        assertTrue(e.getMessage().contains("'Q1' appears twice (entries 1 and 3)"), e.getMessage());
    }

    @Test
    void writtenJsonLinesReadBackEqual() throws IOException {
        KnowledgeBase kb = KnowledgeBase.read(write("kb.tsv", "Q1\tAlpha\tfirst \"letter\"\nQ2\tBéta\n"));
        Path out = dir.resolve("copy.jsonl");
        kb.writeJsonl(out);
        assertEquals(kb.entities(), KnowledgeBase.read(out).entities());
    }
}
