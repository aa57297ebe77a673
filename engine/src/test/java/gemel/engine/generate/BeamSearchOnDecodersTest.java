package gemel.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.config.HfConfig;
import gemel.engine.io.Checkpoint;
import gemel.engine.io.WeightSource;
import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.Decoders;
import gemel.engine.model.ModelShape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Beam search on real decoders (a tiny random OPT fixture, the pretrained stories260K Llama): with a
 * prefix tree over random names and as many beams as names, the ranking must equal the names' scores
 * computed by teacher forcing, each name run in one forward pass over prompt + name.
 */
class BeamSearchOnDecodersTest {

    private static Path folder(String which) {
        return which.equals("opt")
                ? Path.of(System.getProperty("gemel.root"), "engine/src/test/resources/fixtures/decoders/opt-prenorm/model")
                : Path.of(System.getProperty("gemel.shared"), "models/stories260k");
    }

    @ParameterizedTest
    @ValueSource(strings = {"opt", "stories260k"})
    void ranksNamesAsTeacherForcingDoes(String which) {
        Path dir = folder(which);
        try (WeightSource weights = Checkpoint.open(dir); CausalLM model = Decoders.load(HfConfig.load(dir), weights)) {
            ModelShape shape = model.shape();
            int start = shape.bosTokenId(), end = shape.eosTokenId();
            Random rnd = new Random(which.hashCode());
            int checked = 0;
            for (int trial = 0; trial < 6; trial++) {
                List<int[]> entries = randomEntries(rnd, 6 + rnd.nextInt(5), start, end, shape.vocabSize());
                int promptLength = 3 + rnd.nextInt(6);
                float[] prompt = new float[promptLength * shape.inputWidth()];
                for (int i = 0; i < promptLength; i++) model.embed(3 + rnd.nextInt(shape.vocabSize() - 3), prompt, i * shape.inputWidth());

                List<double[]> brute = new ArrayList<>();
                for (int i = 0; i < entries.size(); i++) brute.add(new double[] {teacherForced(model, prompt, promptLength, entries.get(i)), i});
                brute.sort(Comparator.comparingDouble((double[] s) -> -s[0]));
                if (brute.get(0)[0] - brute.get(1)[0] < 1e-3) continue;

                List<Hypothesis> got = new BeamSearch(entries.size(), 6, 1.0)
                        .run(model, prompt, promptLength, start, end, trie(entries, start), entries.size());
                for (int k = 0; k < entries.size(); k++) {
                    assertEquals(brute.get(k)[0], got.get(k).score(), 1e-3, which + " trial " + trial + " rank " + k);
                    int[] entry = entries.get((int) brute.get(k)[1]);
                    if (k == 0 || brute.get(k - 1)[0] - brute.get(k)[0] > 1e-3)
                        assertArrayEquals(Arrays.copyOfRange(entry, 1, entry.length - 1), got.get(k).tokens(), which + " trial " + trial + " rank " + k);
                }
                checked++;
            }
            assertTrue(checked >= 4, "too many near ties: " + checked);
        }
    }

    /** Sum of log-softmax of each name token and the end token over 1 + name length, from one forward pass. */
    private static double teacherForced(CausalLM model, float[] prompt, int promptLength, int[] entry) {
        int width = model.shape().inputWidth(), vocab = model.shape().vocabSize(), names = entry.length - 2;
        float[] input = Arrays.copyOf(prompt, (promptLength + names) * width);
        for (int i = 0; i < names; i++) model.embed(entry[1 + i], input, (promptLength + i) * width);
        int[] rows = new int[names + 1];
        for (int i = 0; i <= names; i++) rows[i] = promptLength - 1 + i;
        float[] logits = model.forward(new DecoderInput(input, 1, promptLength + names, null, null), model.newCache(1, promptLength + names), rows);
        double sum = 0;
        for (int i = 0; i <= names; i++) {
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[i * vocab + v]);
            for (int v = 0; v < vocab; v++) z += Math.exp(logits[i * vocab + v] - max);
            sum += logits[i * vocab + entry[1 + i]] - max - Math.log(z);
        }
        return sum / (names + 1);
    }

    private static List<int[]> randomEntries(Random rnd, int count, int start, int end, int vocab) {
        Set<List<Integer>> seen = new HashSet<>();
        List<int[]> entries = new ArrayList<>();
        while (entries.size() < count) {
            int[] e = new int[3 + rnd.nextInt(4)];
            e[0] = start;
            e[e.length - 1] = end;
            for (int j = 1; j < e.length - 1; j++) e[j] = 3 + rnd.nextInt(rnd.nextBoolean() ? 3 : vocab - 3);
            if (seen.add(Arrays.stream(e).boxed().toList())) entries.add(e);
        }
        return entries;
    }

    private static AllowedTokens trie(List<int[]> entries, int start) {
        Map<List<Integer>, TreeSet<Integer>> next = new HashMap<>();
        for (int[] e : entries)
            for (int i = 0; i < e.length; i++) next.computeIfAbsent(Arrays.stream(e, 0, i).boxed().toList(), k -> new TreeSet<>()).add(e[i]);
        return (prefix, length) -> {
            int from = 0;
            for (int i = length - 1; i >= 0; i--) if (prefix[i] == start) { from = i; break; }
            return next.getOrDefault(Arrays.stream(prefix, from, length).boxed().toList(), new TreeSet<>()).stream().mapToInt(Integer::intValue).toArray();
        };
    }
}
