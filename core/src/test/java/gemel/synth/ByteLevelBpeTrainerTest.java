package gemel.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import gemel.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void writtenFolderLoadsAsAnOptTokenizer(@TempDir Path dir) throws Exception {
        List<String> corpus = List.of("Ada Marlow spoke to the crowd.", "Ben Marlow spoke to the crowd.", "Ada Marlow", "Ben Marlow");
        ByteLevelBpeTrainer.Vocabulary v = ByteLevelBpeTrainer.train(corpus, 50);
        ByteLevelBpeTrainer.writeOptFolder(v, dir);
        Tokenizer t = Tokenizer.load(dir);
        assertEquals(2, t.bosTokenId());
        assertEquals(2, t.eosTokenId());
        assertEquals(1, t.padTokenId());
        int[] ids = t.encode("Ada Marlow</s>");
        assertEquals(2, ids[0], "OPT's BOS </s> in front");
        assertEquals(2, ids[ids.length - 1], "the written </s> is the special token");
        assertEquals(v.tokens().get("\u0120Marlow"), ids[ids.length - 2], "a frequent word is one token");
        assertEquals("Ben Marlow spoke to the crowd.", t.decode(t.encode("Ben Marlow spoke to the crowd."), true));
        assertEquals("Zoë?", t.decode(t.encode("Zoë?"), true), "unseen text still encodes, byte by byte");
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
