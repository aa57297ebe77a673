package gemel.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ByteLevelBpeTrainerTest {

    @Test
    void byteMapIsGpt2s() {
        String[] map = ByteLevelBpeTrainer.byteToUnicode();
        Set<String> distinct = new HashSet<>(List.of(map));
        assertEquals(256, distinct.size());
        assertEquals("\u0120", map[' '], "space is Ġ");
        assertEquals("\u010a", map['\n'], "newline is Ċ");
        assertEquals("A", map['A']);
        assertEquals("\u0100", map[0]);
    }

    @Test
    void mergesTheMostFrequentPairsFirst() {
        // "ab ab ab" splits into "ab", " ab", " ab": pair (a, b) occurs 3 times, then (Ġ, ab) twice.
        ByteLevelBpeTrainer.Vocabulary v = ByteLevelBpeTrainer.train(List.of("ab ab ab"), 10);
        assertEquals(List.of("a b", "\u0120 ab"), v.merges(), "pairs seen once are not merged");
        assertEquals(0, v.tokens().get("<s>"));
        assertEquals(2, v.tokens().get("</s>"));
        assertEquals(4, v.tokens().get("\u0100"), "bytes follow the four special tokens");
        assertEquals(260, v.tokens().get("ab"));
        assertEquals(261, v.tokens().get("\u0120ab"));
        assertEquals(262, v.tokens().size());
    }
}
