package gemel.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.KvCache;
import gemel.engine.model.ModelShape;
import gemel.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptBuilderTest {
    private static final Path TOKENIZERS = Path.of(System.getProperty("gemel.root"), "engine/src/test/resources/tokenizer");
    private static final int K = 4;

    private static float[] feature(float v) {
        float[] f = new float[16];
        Arrays.fill(f, v);
        return f;
    }

    private final float[] imageA = feature(0.1f), imageB = feature(-0.2f), imageQ = feature(0.3f);
    private final List<Demonstration> demos = List.of(
            new Demonstration("Powers with Noel Harrison in The Girl from U.N.C.L.E.", "Noel Harrison", imageA, "Noel Harrison"),
            new Demonstration("Larry Hagman in 1973", "Larry Hagman", imageB, "Larry Hagman"));

    /** The pieces as the reference writes them, spelled out by hand. */
    private static final String PIECE_A = "[Text]Powers with Noel Harrison in The Girl from U.N.C.L.E.\n"
            + "[Question]What does Noel Harrison mentioned in the text refer to?\n[Answer]Noel Harrison\n";
    private static final String PIECE_B = "[Text]Larry Hagman in 1973\n[Question]What does Larry Hagman mentioned in the text refer to?\n[Answer]Larry Hagman\n";
    private static final String PIECE_Q = "[Text]Powers with Noel Harrison in The Girl from U.N.C.L.E.\n"
            + "[Question]What does Powers mentioned in the text refer to?\n[Answer]";

    @Test
    void layoutIsImageTokensThenTextPerDemonstrationThenTheQuery() {
        for (String folder : List.of("opt-bpe", "llama-json")) {
            Tokenizer tok = Tokenizer.load(TOKENIZERS.resolve(folder));
            Prompt p = new PromptBuilder(tok, K).build(demos, "Powers with Noel Harrison in The Girl from U.N.C.L.E.", "Powers", imageQ);
            // expected ids: the pieces encoded without special tokens (the builder encodes with them and drops the BOS)
            int[] a = tok.encode(PIECE_A, false), b = tok.encode(PIECE_B, false), q = tok.encode(PIECE_Q, false);
            assertEquals(6, p.segments().size(), folder);
            assertSlot(p.segments().get(0), 0, imageA);
            assertText(p.segments().get(1), K, a);
            assertSlot(p.segments().get(2), K + a.length, imageB);
            assertText(p.segments().get(3), 2 * K + a.length, b);
            assertSlot(p.segments().get(4), 2 * K + a.length + b.length, imageQ);
            assertText(p.segments().get(5), 3 * K + a.length + b.length, q);
            assertEquals(3 * K + a.length + b.length + q.length, p.length(), folder);
            assertEquals(null, p.labels());
            for (Prompt.Segment s : p.segments())
                if (s instanceof Prompt.Text t) assertEquals(-1, indexOf(t.ids(), tok.bosTokenId()), folder + ": no BOS inside the prompt");
        }
    }

    @Test
    void withoutDemonstrationsTheQueryStands() {
        Tokenizer tok = Tokenizer.load(TOKENIZERS.resolve("opt-bpe"));
        Prompt p = new PromptBuilder(tok, 2).build(List.of(), "Powers with Noel Harrison in The Girl from U.N.C.L.E.", "Powers", imageQ);
        assertEquals(2, p.segments().size());
        assertSlot(p.segments().get(0), 0, imageQ, 2);
        assertText(p.segments().get(1), 2, tok.encode(PIECE_Q, false));
    }

    @Test
    void trainingLabelsAreTheTargetAndEndTokenOnly() {
        Tokenizer tok = Tokenizer.load(TOKENIZERS.resolve("opt-bpe"));
        Prompt p = new PromptBuilder(tok, K).buildTraining(demos, "Powers with Noel Harrison in The Girl from U.N.C.L.E.", "Powers", imageQ, "Stefanie Powers");
        int[] full = tok.encode("Stefanie Powers</s>"); // the reference's tokenize(target + "</s>"): [2, ids..., 2]
        int[] target = Arrays.copyOfRange(full, 1, full.length);
        assertEquals(2, full[full.length - 1]);
        Prompt.Segment last = p.segments().get(p.segments().size() - 1);
        int promptLength = p.length() - target.length;
        assertText(last, promptLength, target);
        for (int i = 0; i < p.length(); i++)
            assertEquals(i < promptLength ? Prompt.IGNORE : target[i - promptLength], p.labels()[i], "label " + i);
    }

    @Test
    void embeddingsPutMappedImagesAndTextEmbeddingsInPlace() {
        Tokenizer tok = Tokenizer.load(TOKENIZERS.resolve("opt-bpe"));
        int width = 8;
        ModelShape shape = new ModelShape("OPTForCausalLM", 700, width, width, 1, 1, 1, width, 64, 2, 2, 1);
        CausalLM model = new EmbeddingOnlyModel(shape);
        FeatureMapper mapper = FeatureMapper.initial(shape, 16, K, 3);
        Prompt p = new PromptBuilder(tok, K).build(demos, "Larry Hagman in 1973", "Hagman", imageQ);
        float[] e = p.embeddings(model, mapper);
        assertEquals(p.length() * width, e.length);
        for (Prompt.Segment s : p.segments()) {
            float[] expected = new float[s.length() * width];
            switch (s) {
                case Prompt.ImageSlot img -> expected = mapper.map(img.feature());
                case Prompt.Text t -> { for (int i = 0; i < t.ids().length; i++) model.embed(t.ids()[i], expected, i * width); }
            }
            assertArrayEquals(expected, Arrays.copyOfRange(e, s.start() * width, (s.start() + s.length()) * width));
        }
        FeatureMapper twoTokens = FeatureMapper.initial(shape, 16, 2, 3);
        assertThrows(IllegalArgumentException.class, () -> p.embeddings(model, twoTokens));
    }

    private static void assertSlot(Prompt.Segment s, int start, float[] feature) { assertSlot(s, start, feature, K); }

    private static void assertSlot(Prompt.Segment s, int start, float[] feature, int tokens) {
        Prompt.ImageSlot slot = assertInstanceOf(Prompt.ImageSlot.class, s);
        assertEquals(start, slot.start());
        assertEquals(tokens, slot.tokens());
        assertSame(feature, slot.feature());
    }

    private static void assertText(Prompt.Segment s, int start, int[] ids) {
        Prompt.Text text = assertInstanceOf(Prompt.Text.class, s);
        assertEquals(start, text.start());
        assertArrayEquals(ids, text.ids());
    }

    private static int indexOf(int[] ids, Integer id) {
        for (int i = 0; i < ids.length; i++) if (id != null && ids[i] == id) return i;
        return -1;
    }

    /** Embeds token t as (t, t + 0.5, ...); nothing else. */
    private record EmbeddingOnlyModel(ModelShape shape) implements CausalLM {
        @Override public void embed(int tokenId, float[] out, int offset) { for (int i = 0; i < shape.inputWidth(); i++) out[offset + i] = tokenId + 0.5f * i; }
        @Override public KvCache newCache(int batch, int capacity) { throw new UnsupportedOperationException(); }
        @Override public float[] forward(DecoderInput input, KvCache cache, int[] logitRows) { throw new UnsupportedOperationException(); }
        @Override public void close() {}
    }
}
