package gemel.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EntityTreeTest {
    private static final int START = 2;

    /** The obvious tree: every prefix of every entry mapped to the set of tokens that follow it. */
    private static final class NaiveTree {
        final Map<List<Integer>, int[]> next = new HashMap<>();
        final Set<List<Integer>> prefixes = new HashSet<>();

        NaiveTree(List<int[]> entries) {
            Map<List<Integer>, TreeSet<Integer>> sets = new HashMap<>();
            for (int[] e : entries) {
                List<Integer> p = new ArrayList<>();
                for (int t : e) {
                    sets.computeIfAbsent(List.copyOf(p), k -> new TreeSet<>()).add(t);
                    p.add(t);
                    prefixes.add(List.copyOf(p));
                }
            }
            sets.forEach((k, v) -> next.put(k, v.stream().mapToInt(Integer::intValue).toArray()));
        }

        int[] allowed(int[] prefix) {
            int from = 0;
            for (int i = prefix.length - 1; i >= 0; i--) if (prefix[i] == START) { from = i; break; }
            List<Integer> key = new ArrayList<>();
            for (int i = from; i < prefix.length; i++) key.add(prefix[i]);
            return next.getOrDefault(key, new int[0]);
        }
    }

    /** A deterministic stand-in for a BPE tokenizer: words cut into pieces of up to 4 characters, hashed to ids. */
    static int[] standInTokens(String name) {
        List<Integer> ids = new ArrayList<>();
        ids.add(START);
        for (String word : name.split(" ")) {
            String w = " " + word;
            for (int i = 0; i < w.length(); i += 4) ids.add(3 + Math.floorMod(w.substring(i, Math.min(w.length(), i + 4)).hashCode(), 50_000));
        }
        ids.add(START);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static List<int[]> wikiMel;

    /** The 18,880 WikiMEL KB names in stand-in tokens (read once). */
    static synchronized List<int[]> wikiMelEntries() throws IOException {
        if (wikiMel == null) wikiMel = readWikiMelEntries();
        return wikiMel;
    }

    private static List<int[]> readWikiMelEntries() throws IOException {
        Path file = Path.of(System.getProperty("gemel.shared"), "data/wikimel/qid2ne.json");
        JsonNode names = new ObjectMapper().readTree(file.toFile());
        List<int[]> entries = new ArrayList<>();
        for (Iterator<JsonNode> it = names.elements(); it.hasNext(); ) entries.add(standInTokens(it.next().asText()));
        return List.copyOf(entries);
    }

    private static EntityTree build(List<int[]> entries) {
        EntityTreeBuilder b = EntityTree.builder(START);
        entries.forEach(b::add);
        return b.build();
    }

    /** Every prefix of every entry, plus noise before a start token, plus random probes. */
    private static void assertSameAsNaive(EntityTree tree, NaiveTree naive, List<int[]> entries, Random rnd, int alphabet) {
        for (int[] e : entries) {
            for (int len = 0; len <= e.length; len++) {
                int[] prefix = Arrays.copyOf(e, len);
                assertArrayEquals(naive.allowed(prefix), tree.allowedNext(prefix), () -> "prefix " + Arrays.toString(prefix));
            }
            int[] noisy = new int[3 + e.length - 1];
            for (int i = 0; i < 3; i++) noisy[i] = 3 + rnd.nextInt(alphabet);
            System.arraycopy(e, 0, noisy, 3, e.length - 1); // garbage, then the entry without its last token
            assertArrayEquals(naive.allowed(noisy), tree.allowedNext(noisy), () -> "noisy prefix " + Arrays.toString(noisy));
        }
        for (int probe = 0; probe < 5_000; probe++) {
            int[] p = new int[rnd.nextInt(6)];
            for (int i = 0; i < p.length; i++) p[i] = rnd.nextInt(4) == 0 ? START : 3 + rnd.nextInt(alphabet);
            assertArrayEquals(naive.allowed(p), tree.allowedNext(p), () -> "probe " + Arrays.toString(p));
        }
    }

    @Test
    void matchesNaiveTreeOnWikiMelNames() throws IOException {
        List<int[]> entries = wikiMelEntries();
        assertEquals(18_880, entries.size());
        EntityTree tree = build(entries);
        NaiveTree naive = new NaiveTree(entries);
        assertEquals(naive.prefixes.size() + 1, tree.nodeCount(), "one node per distinct prefix, plus the root");
        assertEquals(entries.stream().map(Arrays::toString).distinct().count(), tree.entryCount());
        assertArrayEquals(new int[] {START}, tree.allowedNext(new int[0]));
        assertSameAsNaive(tree, naive, entries, new Random(1), 50_000);
    }

    @Test
    void matchesNaiveTreeOnRandomSequences() {
        Random rnd = new Random(7);
        List<int[]> entries = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            int[] e = new int[1 + rnd.nextInt(7)]; // small alphabet: much sharing, entries that are prefixes of others
            e[0] = START;
            for (int j = 1; j < e.length; j++) e[j] = rnd.nextInt(10) == 0 ? START : 3 + rnd.nextInt(6);
            entries.add(e);
            if (rnd.nextInt(20) == 0) entries.add(e.clone()); // duplicates
        }
        EntityTree tree = build(entries);
        NaiveTree naive = new NaiveTree(entries);
        assertEquals(naive.prefixes.size() + 1, tree.nodeCount());
        assertSameAsNaive(tree, naive, entries, rnd, 6);
    }

    @Test
    void emptyTreeAllowsNothing() {
        EntityTree tree = EntityTree.builder(START).build();
        assertEquals(1, tree.nodeCount());
        assertArrayEquals(new int[0], tree.allowedNext(new int[0]));
        assertArrayEquals(new int[0], tree.allowedNext(new int[] {START}));
    }

    @Test
    void savedTreeLoadsBackIdentical(@TempDir Path dir) throws IOException {
        List<int[]> entries = wikiMelEntries().subList(0, 2_000);
        EntityTree tree = build(entries);
        Path file = dir.resolve("names.tree");
        tree.save(file);
        tree.save(file); // overwriting is atomic too
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file left behind");
        }
        EntityTree back = EntityTree.load(file);
        assertEquals(tree.nodeCount(), back.nodeCount());
        assertEquals(tree.entryCount(), back.entryCount());
        assertEquals(START, back.startToken());
        assertSameAsNaive(back, new NaiveTree(entries), entries, new Random(3), 50_000);
    }

    @Test
    void corruptedFilesAreErrorsNamingTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("names.tree");
        build(wikiMelEntries().subList(0, 500)).save(file);
        byte[] good = Files.readAllBytes(file);

        byte[] flipped = good.clone();
        flipped[good.length / 2] ^= 0x10;
        assertLoadFails(dir, "flipped.tree", flipped, "checksum");
        assertLoadFails(dir, "short.tree", Arrays.copyOf(good, good.length - 4), "size");
        byte[] foreign = good.clone();
        foreign[0] = 'X';
        assertLoadFails(dir, "foreign.tree", foreign, "magic");
        assertLoadFails(dir, "tiny.tree", new byte[10], "too short");
        assertThrows(RuntimeException.class, () -> EntityTree.load(dir.resolve("missing.tree")));
    }

    private static void assertLoadFails(Path dir, String name, byte[] bytes, String why) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EntityTree.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void badEntriesAreRejected() {
        EntityTreeBuilder b = EntityTree.builder(START);
        assertThrows(IllegalArgumentException.class, () -> b.add(new int[] {5, 6, START}));
        assertThrows(IllegalArgumentException.class, () -> b.add(new int[0]));
        assertThrows(IllegalArgumentException.class, () -> b.add(new int[] {START, -4, START}));
    }
}
