package gemel.demos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemosFileTest {
    @TempDir
    Path dir;

    @Test
    void writesOneLinePerExampleAndReadsItBack() throws IOException {
        List<int[]> demos = List.of(new int[] {5, 2, 9}, new int[] {}, new int[] {0});
        Path file = dir.resolve("demos.jsonl");
        DemosFile.write(file, demos);
        assertEquals(List.of("{\"demos\":[5,2,9]}", "{\"demos\":[]}", "{\"demos\":[0]}"), Files.readAllLines(file));
        List<int[]> back = DemosFile.read(file, 10);
        assertEquals(3, back.size());
        for (int i = 0; i < demos.size(); i++) assertArrayEquals(demos.get(i), back.get(i));
    }

    @Test
    void badLinesAreErrorsWithTheirNumber() throws IOException {
        String[][] cases = {
                {"{\"demos\": [1]}\n{\"demos\": [1, 10]}\n", "line 2: demos[1] = 10 is outside the 10 training records"},
                {"{\"demos\": [1.5]}\n", "line 1: demos[0] is not an integer"},
                {"{\"demos\": [1]}\n{\"x\": 1}\n", "line 2: expected {\"demos\": [indices]}"},
                {"{\"demos\": [1]}\n\n", "line 2: blank line"},
                {"{\"demos\": [1\n", "line 1: malformed JSON"},
        };
        for (String[] c : cases) {
            Path file = dir.resolve("bad.jsonl");
            Files.writeString(file, c[0]);
            var e = assertThrows(IllegalArgumentException.class, () -> DemosFile.read(file, 10));
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
        }
    }
}
