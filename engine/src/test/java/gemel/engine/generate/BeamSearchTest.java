package gemel.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.model.KvCache;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class BeamSearchTest {

    /** GENRE's trie lookup written the obvious way: a map from every prefix to its next tokens, walked from the last start token. */
    private static AllowedTokens naiveTrie(List<int[]> entries, int start) {
        Map<List<Integer>, TreeSet<Integer>> next = new HashMap<>();
        for (int[] e : entries)
            for (int i = 0; i < e.length; i++) {
                List<Integer> key = new ArrayList<>();
                for (int j = 0; j < i; j++) key.add(e[j]);
                next.computeIfAbsent(key, k -> new TreeSet<>()).add(e[i]);
            }
        return (prefix, length) -> {
            int from = 0;
            for (int i = length - 1; i >= 0; i--) if (prefix[i] == start) { from = i; break; }
            List<Integer> key = new ArrayList<>();
            for (int i = from; i < length; i++) key.add(prefix[i]);
            return next.getOrDefault(key, new TreeSet<>()).stream().mapToInt(Integer::intValue).toArray();
        };
    }

    @Test
    void matchesTransformersBeamSearch() throws IOException {
        JsonNode root;
        try (InputStream in = getClass().getResourceAsStream("/generate/beam_search.json")) {
            root = new ObjectMapper().readTree(in);
        }
        int vocab = root.get("vocab").asInt();
        int cases = 0;
        for (JsonNode c : root.get("cases")) {
            float[][][] table = toTable(c.get("table"));
            FakeCausalLM model = new FakeCausalLM(vocab, (history, length, promptLength) -> {
                int generated = length - promptLength;
                int last = generated == 0 ? vocab : (int) history[length - 1];
                return table[generated][last].clone();
            });
            int start = c.get("startToken").asInt(), end = c.get("endToken").asInt(), beams = c.get("numBeams").asInt();
            AllowedTokens allowed = null;
            if (!c.get("entries").isNull()) {
                List<int[]> entries = new ArrayList<>();
                for (JsonNode e : c.get("entries")) entries.add(ints(e));
                allowed = naiveTrie(entries, start);
            }
            BeamSearch search = new BeamSearch(beams, c.get("maxNewTokens").asInt(), c.get("lengthPenalty").asDouble());
            List<Hypothesis> got = search.run(model, FakeCausalLM.prompt(3, cases), 3, start, end, allowed, beams);
            String where = "case " + cases + " " + c.get("numBeams") + " beams, penalty " + c.get("lengthPenalty") + ", constrained " + (allowed != null);

            // hypotheses born from the reference's -1e9 filler beams depend on torch.topk's order among ties: compare the real ones
            List<JsonNode> expected = new ArrayList<>();
            c.get("expected").forEach(h -> { if (h.get("score").asDouble() > -1e8) expected.add(h); });
            List<Hypothesis> real = got.stream().filter(h -> h.score() > -1e8).toList();
            assertEquals(expected.size(), real.size(), where);
            for (int i = 0; i < real.size(); i++) {
                JsonNode e = expected.get(i);
                assertArrayEquals(ints(e.get("tokens")), real.get(i).tokens(), where + " hypothesis " + i);
                assertEquals(e.get("score").asDouble(), real.get(i).score(), 1e-5 * Math.max(1, Math.abs(e.get("score").asDouble())), where + " hypothesis " + i);
                assertEquals(e.get("ended").asBoolean(), real.get(i).ended(), where + " hypothesis " + i);
            }
            assertEquals(1, model.promptCalls, "the prompt runs once");
            cases++;
        }
        assertEquals(28, cases);
    }

    /**
     * With the prefix tree and at least as many beams as names, beam search cannot lose a name, so it
     * must return the names ranked by their teacher-forced, length-normalised log-probability.
     */
    @Test
    void withEnoughBeamsFindsTheBestScoringNameByBruteForce() {
        int vocab = 40;
        FakeCausalLM model = new FakeCausalLM(vocab, (history, length, promptLength) -> {
            long h = 1469598103934665603L;
            for (int i = 0; i < length; i++) h = (h ^ history[i]) * 1099511628211L;
            SplittableRandom r = new SplittableRandom(h);
            float[] logits = new float[vocab];
            for (int v = 0; v < vocab; v++) logits[v] = (float) (r.nextGaussian() * 2.5);
            return logits;
        });
        Random rnd = new Random(11);
        int checked = 0;
        for (int trial = 0; trial < 60; trial++) {
            int start = trial % 2 == 0 ? 2 : 1, end = 2, names = 5 + rnd.nextInt(16);
            List<int[]> entries = randomEntries(rnd, names, start, end, vocab);
            int beams = names + rnd.nextInt(4);
            double penalty = trial % 3 == 0 ? 1.0 : trial % 3 == 1 ? 0.7 : 1.6;
            int promptLength = 2 + rnd.nextInt(5);
            float[] prompt = FakeCausalLM.prompt(promptLength, trial * 31L);

            List<double[]> brute = new ArrayList<>(); // {score, entry index}
            for (int i = 0; i < entries.size(); i++) brute.add(new double[] {teacherForcedScore(model, prompt, promptLength, entries.get(i), penalty), i});
            brute.sort(Comparator.comparingDouble((double[] s) -> -s[0]));
            if (brute.get(0)[0] - brute.get(1)[0] < 1e-5) continue; // a tie: either answer is right

            model.promptCalls = 0;
            List<Hypothesis> got = new BeamSearch(beams, 8, penalty).run(model, prompt, promptLength, start, end, naiveTrie(entries, start), names);
            assertEquals(1, model.promptCalls, "the prompt runs once");
            for (int k = 0; k < names; k++) {
                int[] entry = entries.get((int) brute.get(k)[1]);
                int[] name = Arrays.copyOfRange(entry, 1, entry.length - 1);
                assertTrue(got.get(k).ended());
                assertEquals(brute.get(k)[0], got.get(k).score(), 1e-4, "trial " + trial + " rank " + k);
                if (k == 0 || brute.get(k - 1)[0] - brute.get(k)[0] > 1e-5) assertArrayEquals(name, got.get(k).tokens(), "trial " + trial + " rank " + k);
            }
            checked++;
        }
        assertTrue(checked > 50, "too many ties: " + checked);
    }

    /** Distinct names of 1..5 tokens (never the start or end token), as entries {@code [start, name..., end]}. */
    private static List<int[]> randomEntries(Random rnd, int count, int start, int end, int vocab) {
        Set<List<Integer>> seen = new HashSet<>();
        List<int[]> entries = new ArrayList<>();
        while (entries.size() < count) {
            int[] e = new int[2 + 1 + rnd.nextInt(5)];
            e[0] = start;
            e[e.length - 1] = end;
            for (int j = 1; j < e.length - 1; j++) e[j] = 3 + rnd.nextInt(rnd.nextBoolean() ? 4 : vocab - 3); // small sub-alphabet: shared prefixes
            if (seen.add(Arrays.stream(e).boxed().toList())) entries.add(e);
        }
        return entries;
    }

    /** Sum of log-softmax (double) of each name token and the end token, fed one by one; over (1 + name length) ^ penalty. */
    private static double teacherForcedScore(FakeCausalLM model, float[] prompt, int promptLength, int[] entry, double penalty) {
        KvCache cache = model.newCache(1, promptLength + entry.length);
        float[] logits = model.forward(new gemel.engine.model.DecoderInput(prompt, 1, promptLength, null, null), cache, new int[] {promptLength - 1});
        double sum = 0;
        for (int i = 1; i < entry.length; i++) {
            sum += logSoftmax(logits, entry[i]);
            if (i == entry.length - 1) break;
            float[] e = new float[FakeCausalLM.WIDTH];
            model.embed(entry[i], e, 0);
            logits = model.forward(new gemel.engine.model.DecoderInput(e, 1, 1, null, null), cache, null);
        }
        return sum / Math.pow(entry.length - 1, penalty);
    }

    private static double logSoftmax(float[] logits, int token) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float l : logits) max = Math.max(max, l);
        for (float l : logits) sum += Math.exp(l - max);
        return logits[token] - max - Math.log(sum);
    }

    @Test
    void badArgumentsAreErrors() {
        FakeCausalLM model = new FakeCausalLM(10, (h, l, p) -> new float[10]);
        float[] prompt = FakeCausalLM.prompt(2, 1);
        assertThrows(IllegalArgumentException.class, () -> new BeamSearch(3, 4, 1.0).run(model, prompt, 2, 2, 2, null, 4));
        assertThrows(IllegalArgumentException.class, () -> new BeamSearch(3, 4, 1.0).run(model, prompt, 3, 2, 2, null, 1));
        assertThrows(IllegalArgumentException.class, () -> new BeamSearch(3, 4, 1.0).run(model, prompt, 2, 2, 2, (p, n) -> new int[] {10}, 1));
        assertThrows(IllegalArgumentException.class, () -> new BeamSearch(0, 4, 1.0));
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    private static float[][][] toTable(JsonNode t) {
        float[][][] out = new float[t.size()][][];
        for (int s = 0; s < out.length; s++) {
            out[s] = new float[t.get(s).size()][];
            for (int r = 0; r < out[s].length; r++) {
                JsonNode row = t.get(s).get(r);
                out[s][r] = new float[row.size()];
                for (int v = 0; v < row.size(); v++) out[s][r][v] = (float) row.get(v).asDouble();
            }
        }
        return out;
    }
}
