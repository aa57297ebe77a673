package gemel.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.KvCache;
import gemel.engine.model.ModelShape;
import gemel.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LinkerTest {
    private static final Path TOKENIZERS = Path.of(System.getProperty("gemel.root"), "engine/src/test/resources/tokenizer");

    @Test
    void entriesAreTheReferenceTokenizationOfNamePlusEndText() throws IOException {
        for (String folder : List.of("opt-bpe", "llama-json")) {
            Tokenizer tok = Tokenizer.load(TOKENIZERS.resolve(folder));
            for (String name : kb(40).keySet()) {
                int[] reference = tok.encode(name + "</s>"); // OPT: [2, ids..., 2]; Llama 2: [1, ids..., 2]
                assertArrayEquals(reference, EntityNames.entry(tok, name, tok.bosTokenId(), tok.eosTokenId()), folder + ": " + name);
            }
        }
    }

    @Test
    void ranksKnowledgeBaseNamesAsTeacherForcingDoesAndReturnsTheirIds() throws IOException {
        Tokenizer tok = Tokenizer.load(TOKENIZERS.resolve("opt-bpe"));
        Map<String, String> kb = kb(12);
        Map<String, List<String>> idsByName = new LinkedHashMap<>();
        kb.forEach((name, qid) -> idsByName.put(name, List.of(qid)));
        List<String> names = new ArrayList<>(kb.keySet());
        EntityTree tree = EntityNames.tree(tok, names, 2, 2, null);
        MarkovModel model = new MarkovModel(new ModelShape("OPTForCausalLM", tok.vocabSize(), 8, 8, 1, 1, 1, 8, 512, 2, 2, 1));
        FeatureMapper mapper = FeatureMapper.initial(model.shape(), 16, 2, 9);
        float[] image = new float[16];
        Arrays.fill(image, 0.25f);
        List<Demonstration> demos = List.of(new Demonstration("Larry Hagman in 1973", "Larry Hagman", image, "Larry Hagman"));
        Linker linker = new Linker(model, tok, mapper, tree, idsByName, LinkerSettings.of(new DecodingOptions(names.size(), 32, 1.0, true, names.size())));

        int checked = 0;
        for (String mention : List.of("Gandhi", "Greco", "Lester", "Thein", "Hillman")) {
            String text = "A photo of " + mention + " in 1950";
            // brute force: the name's teacher-forced score under the model, length-normalised as beam search scores it
            Prompt prompt = new PromptBuilder(tok, 2).build(demos, text, mention, image);
            float[] embeds = prompt.embeddings(model, mapper);
            float[] last = Arrays.copyOfRange(embeds, (prompt.length() - 1) * 8, prompt.length() * 8);
            List<Object[]> brute = new ArrayList<>();
            for (String name : names) {
                int[] entry = EntityNames.entry(tok, name, 2, 2);
                double sum = MarkovModel.logProb(MarkovModel.logits(last, model.shape().vocabSize()), entry[1]);
                for (int i = 1; i + 1 < entry.length; i++) sum += MarkovModel.logProb(model.logitsAfterToken(entry[i]), entry[i + 1]);
                brute.add(new Object[] {sum / (entry.length - 1), name});
            }
            brute.sort(Comparator.comparingDouble((Object[] o) -> -(double) o[0]));
            if ((double) brute.get(0)[0] - (double) brute.get(1)[0] < 1e-4) continue;

            List<LinkedEntity> got = linker.link(new LinkQuery(text, mention, image, demos)).beams();
            assertEquals(names.size(), got.size());
            for (int k = 0; k < names.size(); k++) {
                assertEquals((double) brute.get(k)[0], got.get(k).score(), 1e-4, mention + " rank " + k);
                String name = (String) brute.get(k)[1];
                if (k == 0 || (double) brute.get(k - 1)[0] - (double) brute.get(k)[0] > 1e-4) {
                    assertEquals(name, got.get(k).name(), mention + " rank " + k);
                    assertEquals(List.of(kb.get(name)), got.get(k).entityIds());
                }
            }
            checked++;
        }
        assertTrue(checked >= 4);

        LinkedEntity free = new Linker(model, tok, mapper, tree, idsByName, LinkerSettings.of(new DecodingOptions(3, 6, 1.0, false, 1)))
                .link(new LinkQuery("A photo of Gandhi", "Gandhi", image, demos)).best();
        assertEquals(idsByName.containsKey(free.name()), !free.isNil(), "unconstrained answers outside the KB are NIL");
    }

    @Test
    void aTreeOfAnotherTokenizerIsRefused() {
        Tokenizer tok = Tokenizer.load(TOKENIZERS.resolve("opt-bpe"));
        MarkovModel model = new MarkovModel(new ModelShape("LlamaForCausalLM", 700, 8, 8, 1, 1, 1, 8, 512, 1, 2, 0));
        EntityTree optTree = EntityNames.tree(tok, List.of("Larry Hagman"), 2, 2, null);
        assertThrows(IllegalArgumentException.class, () -> new Linker(model, tok, FeatureMapper.initial(model.shape(), 16, 2, 1), optTree,
                Map.of(), LinkerSettings.reference()));
    }

    @Test
    void stripsOnlySpacesLikePython() {
        assertEquals("Noel Harrison", Linker.stripSpaces("  Noel Harrison "));
        assertEquals("\tNoel\n", Linker.stripSpaces(" \tNoel\n "));
    }

    private static Map<String, String> kb(int count) throws IOException {
        JsonNode names = new ObjectMapper().readTree(Path.of(System.getProperty("gemel.shared"), "data/wikimel/qid2ne.json").toFile());
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = names.fields(); it.hasNext() && out.size() < count; ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.putIfAbsent(e.getValue().asText(), e.getKey());
        }
        return out;
    }

    /** A first-order Markov stand-in: the logits of a position depend only on that position's input embedding. */
    private record MarkovModel(ModelShape shape) implements CausalLM {
        @Override
        public void embed(int tokenId, float[] out, int offset) {
            for (int i = 0; i < shape.inputWidth(); i++) out[offset + i] = (float) Math.sin(tokenId * 12.9898 + i * 78.233);
        }

        float[] logitsAfterToken(int token) {
            float[] e = new float[shape.inputWidth()];
            embed(token, e, 0);
            return logits(e, shape.vocabSize());
        }

        static float[] logits(float[] embedding, int vocab) {
            SplittableRandom r = new SplittableRandom(Arrays.hashCode(embedding));
            float[] l = new float[vocab];
            for (int v = 0; v < vocab; v++) l[v] = (float) (r.nextGaussian() * 3);
            return l;
        }

        static double logProb(float[] logits, int token) {
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (float l : logits) max = Math.max(max, l);
            for (float l : logits) z += Math.exp(l - max);
            return logits[token] - max - Math.log(z);
        }

        @Override
        public KvCache newCache(int batch, int capacity) { return new CountingCache(batch, capacity); }

        @Override
        public float[] forward(DecoderInput input, KvCache cache, int[] logitRows) {
            int w = shape.inputWidth(), v = shape.vocabSize(), n = input.batch() * input.tokens();
            int[] rows = logitRows != null ? logitRows : java.util.stream.IntStream.range(0, n).toArray();
            float[] out = new float[rows.length * v];
            for (int i = 0; i < rows.length; i++)
                System.arraycopy(logits(Arrays.copyOfRange(input.embeds(), rows[i] * w, (rows[i] + 1) * w), v), 0, out, i * v, v);
            ((CountingCache) cache).length += input.tokens();
            return out;
        }

        @Override
        public void close() {}
    }

    /** The Markov model needs no keys or values: the cache only counts positions. */
    private static final class CountingCache implements KvCache {
        final int batch, capacity;
        int length;

        CountingCache(int batch, int capacity) {
            this.batch = batch;
            this.capacity = capacity;
        }

        @Override public int batch() { return batch; }
        @Override public int length() { return length; }
        @Override public int capacity() { return capacity; }
        @Override public void truncate(int length) { this.length = length; }

        @Override
        public KvCache fork(int rows) {
            CountingCache c = new CountingCache(rows, capacity);
            c.length = length;
            return c;
        }

        @Override public void reorder(int[] sourceRows) {}
    }
}
