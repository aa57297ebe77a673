package gemel.link;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gemel.engine.config.HfConfig;
import gemel.engine.io.TensorView;
import gemel.engine.io.WeightSource;
import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.Decoders;
import gemel.engine.model.ModelShape;
import gemel.engine.tensor.DType;
import gemel.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Link latency per mention (not a test): a randomly initialised OPT of a published shape (weights F16, as the
 * reference runs them; activations fp32), the real WikiMEL entity names in the tree, 16 demonstrations whose
 * text pieces are sized to ~88 tokens each as WikiMEL prompts are with OPT's tokenizer (the test tokenizer here
 * has a small vocabulary, so words are chosen by token count), 4 image tokens each. Reports the median of
 * {@code reps} runs of {@link Linker#link} (one prompt prefill shared by the beams) and the reference's way,
 * which runs the prompt once per beam: our time minus our one-row prefill plus a {@code numBeams}-row prefill
 * of the same prompt, measured in the same run. Run from the worktree root after
 * {@code mvn -q -DskipTests package -pl app -am && mvn -q -pl core -am test-compile}:
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "core/target/test-classes:app/target/lib/*" \
 *     gemel.link.LinkerBench [125m|1.3b] [demos=16] [reps=3] [layers=all]</pre>
 * ({@code layers} cuts the model for a quick try of the harness; OPT-1.3b needs about 2.7 GB off-heap).
 * Prints one Markdown table row: shape, demonstrations, prompt tokens, ours, the reference's way, ratio, best name.
 */
public final class LinkerBench {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final int TOKENS_PER_DEMO = 88, IMAGE_TOKENS = 4, DIM_CLIP = 1024, BEAMS = 5;
    private static final String[] WORDS = ("the a in of at with during his her their new old city team match award speech "
            + "portrait photo crowd stadium president minister actor singer player coach visit meeting festival").split(" ");

    public static void main(String[] args) throws IOException {
        String size = args.length > 0 ? args[0] : "125m";
        int demos = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int[] dims = switch (size) { // hidden, heads, layers, ffn
            case "125m" -> new int[] {768, 12, 12, 3072};
            case "1.3b" -> new int[] {2048, 32, 24, 8192};
            default -> throw new IllegalArgumentException("shape " + size + ": expected 125m or 1.3b");
        };
        int layers = args.length > 3 ? Integer.parseInt(args[3]) : dims[2];
        Path root = Path.of(System.getProperty("gemel.root", "."));
        Path shared = Path.of(System.getProperty("gemel.shared", root.resolve("../shared").toString()));
        Tokenizer tok = Tokenizer.load(root.resolve("engine/src/test/resources/tokenizer/opt-bpe"));

        HfConfig config = HfConfig.of(Path.of("random/config.json"), new ObjectMapper().readTree("""
                {"architectures": ["OPTForCausalLM"], "model_type": "opt", "vocab_size": 50272, "hidden_size": %d, "num_attention_heads": %d,
                 "num_hidden_layers": %d, "ffn_dim": %d, "max_position_embeddings": 2048, "word_embed_proj_dim": %d,
                 "do_layer_norm_before": true, "activation_function": "relu", "pad_token_id": 1, "bos_token_id": 2, "eos_token_id": 2}
                """.formatted(dims[0], dims[1], layers, dims[3], dims[0])));
        long t0 = System.nanoTime();
        try (CausalLM model = Decoders.load(config, RandomWeights.opt(config))) {
            ModelShape shape = model.shape();
            System.err.printf(Locale.ROOT, "random OPT-%s (%d layers) ready in %.1f s%n", size, layers, (System.nanoTime() - t0) / 1e9);
            EntityTree tree = EntityNames.tree(tok, wikimelNames(shared), 2, 2, null);
            FeatureMapper mapper = FeatureMapper.initial(shape, DIM_CLIP, IMAGE_TOKENS, 1);
            Random rnd = new Random(42);
            List<Demonstration> shown = new ArrayList<>();
            for (int d = 0; d < demos; d++) shown.add(new Demonstration(sentence(tok, rnd), "the city", image(rnd), "Paris"));
            LinkQuery query = new LinkQuery(sentence(tok, rnd), "the team", image(rnd), shown);
            Linker linker = new Linker(model, tok, mapper, tree, Map.of(), LinkerSettings.reference());
            Prompt prompt = new PromptBuilder(tok, IMAGE_TOKENS).build(shown, query.text(), query.mention(), query.image());
            float[] embeds = prompt.embeddings(model, mapper);

            double[] ours = new double[reps], one = new double[reps], perBeam = new double[reps];
            String answer = linker.link(query).best().name(); // warm-up
            for (int r = 0; r < reps; r++) {
                ours[r] = seconds(() -> linker.link(query));
                one[r] = seconds(() -> prefill(model, embeds, prompt.length(), 1));
                perBeam[r] = seconds(() -> prefill(model, embeds, prompt.length(), BEAMS));
            }
            double o = median(ours), reference = o - median(one) + median(perBeam);
            System.out.printf(Locale.ROOT, "| OPT-%s shape, random F16 weights, %d layers | %d | %d | %.3f s | %.3f s | %.2fx | %s |%n",
                    size, layers, demos, prompt.length(), o, reference, reference / o, answer);
        }
    }

    private static void prefill(CausalLM model, float[] embeds, int length, int rows) {
        float[] input = new float[rows * embeds.length];
        for (int b = 0; b < rows; b++) System.arraycopy(embeds, 0, input, b * embeds.length, embeds.length);
        int[] last = IntStream.range(0, rows).map(b -> b * length + length - 1).toArray();
        model.forward(new DecoderInput(input, rows, length, null, null), model.newCache(rows, length + 32), last);
    }

    private static double seconds(Runnable r) {
        long t = System.nanoTime();
        r.run();
        return (System.nanoTime() - t) / 1e9;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** A caption whose demonstration piece is about {@value #TOKENS_PER_DEMO} tokens. */
    private static String sentence(Tokenizer tok, Random rnd) {
        StringBuilder s = new StringBuilder("Photo");
        while (tok.encode(PromptBuilder.question(s.toString(), "the city") + "Paris\n").length < TOKENS_PER_DEMO)
            s.append(' ').append(WORDS[rnd.nextInt(WORDS.length)]);
        return s.toString();
    }

    private static float[] image(Random rnd) {
        float[] f = new float[DIM_CLIP];
        for (int i = 0; i < f.length; i++) f[i] = (float) rnd.nextGaussian();
        return f;
    }

    private static List<String> wikimelNames(Path shared) throws IOException {
        JsonNode names = new ObjectMapper().readTree(shared.resolve("data/wikimel/qid2ne.json").toFile());
        List<String> out = new ArrayList<>();
        for (Iterator<JsonNode> it = names.elements(); it.hasNext(); ) out.add(it.next().asText());
        return out.stream().distinct().toList();
    }

    /** Random F16 weights of an OPT config, held off-heap (about 2 bytes per parameter). */
    private record RandomWeights(Map<String, TensorView> tensors, Arena arena) implements WeightSource {
        static RandomWeights opt(HfConfig c) {
            int h = c.integer("hidden_size"), f = c.integer("ffn_dim"), v = c.integer("vocab_size");
            Map<String, long[]> shapes = new LinkedHashMap<>();
            String p = "model.decoder.";
            shapes.put(p + "embed_tokens.weight", new long[] {v, h});
            shapes.put(p + "embed_positions.weight", new long[] {c.integer("max_position_embeddings") + 2, h});
            for (int i = 0; i < c.integer("num_hidden_layers"); i++) {
                String l = p + "layers." + i + ".";
                for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                    shapes.put(l + "self_attn." + proj + ".weight", new long[] {h, h});
                    shapes.put(l + "self_attn." + proj + ".bias", new long[] {h});
                }
                for (String norm : new String[] {"self_attn_layer_norm", "final_layer_norm"}) {
                    shapes.put(l + norm + ".weight", new long[] {h});
                    shapes.put(l + norm + ".bias", new long[] {h});
                }
                shapes.put(l + "fc1.weight", new long[] {f, h});
                shapes.put(l + "fc1.bias", new long[] {f});
                shapes.put(l + "fc2.weight", new long[] {h, f});
                shapes.put(l + "fc2.bias", new long[] {h});
            }
            shapes.put(p + "final_layer_norm.weight", new long[] {h});
            shapes.put(p + "final_layer_norm.bias", new long[] {h});
            Arena arena = Arena.ofShared();
            Map<String, TensorView> out = new LinkedHashMap<>();
            long seed = 1;
            for (var e : shapes.entrySet()) {
                long n = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
                MemorySegment data = arena.allocate(2 * n, 2);
                boolean norm = e.getKey().endsWith("norm.weight");
                fill(data, n, seed++, norm);
                out.put(e.getKey(), new TensorView(e.getKey(), Path.of("random"), DType.F16, e.getValue(), data));
            }
            return new RandomWeights(out, arena);
        }

        /** Uniform values of std 0.02 (norm weights: 1 +- that), in parallel chunks of a xorshift stream. */
        private static void fill(MemorySegment data, long n, long seed, boolean aroundOne) {
            long chunk = 1 << 20;
            IntStream.range(0, (int) ((n + chunk - 1) / chunk)).parallel().forEach(c -> {
                long x = seed * 0x9E3779B97F4A7C15L + c + 1;
                for (long i = c * chunk; i < Math.min(n, (c + 1) * chunk); i++) {
                    x ^= x << 13;
                    x ^= x >>> 7;
                    x ^= x << 17;
                    float u = ((x >>> 40) / (float) (1L << 24) - 0.5f) * 0.0693f; // uniform, std 0.02
                    data.set(LE_SHORT, 2 * i, Float.floatToFloat16(aroundOne ? 1 + u : u));
                }
            });
        }

        @Override
        public Set<String> names() { return tensors.keySet(); }

        @Override
        public TensorView tensor(String name) {
            TensorView t = tensors.get(name);
            if (t == null) throw new IllegalArgumentException("no tensor " + name + " in the random weights");
            return t;
        }

        @Override
        public void close() { arena.close(); }
    }
}
