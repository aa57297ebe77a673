package gemel.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.data.KbEntity;
import gemel.data.MelExample;
import gemel.data.MelJsonlWriter;
import gemel.engine.io.AtomicFile;
import gemel.features.FeatureStore;
import gemel.features.FeatureStoreWriter;
import gemel.train.SplitMix64;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small multimodal entity-linking benchmark where only the image decides: entities come in groups
 * that share one mention word ("Marlow" may be Ada Marlow, Ben Marlow or Cleo Marlow; "Quill" Dara, Emil or Fay Quill), every
 * mention of a group is written with the same sentence templates, and each entity has its own
 * "image", a random prototype vector; an example's image feature is its entity's prototype plus
 * noise. Text alone can do no better than chance within a group; the image makes it solvable.
 * Deterministic for a given {@link Settings}.
 */
public record SyntheticBenchmark(List<KbEntity> entities, List<MelExample> train, List<MelExample> dev, List<MelExample> test,
                                 Map<String, float[]> features, int dim) {

    /** Sizes of the benchmark; {@code noise} is the per-example standard deviation around a prototype of unit-variance entries. */
    public record Settings(int groups, int groupSize, int dim, int trainPerEntity, int devPerEntity, int testPerEntity, double noise, long seed) {
        public Settings {
            if (groups < 1 || groups > SURNAMES.length) throw new IllegalArgumentException("groups must be in 1.." + SURNAMES.length + ", got " + groups);
            if (groupSize < 1 || groups * groupSize > GIVEN.length)
                throw new IllegalArgumentException("at most " + GIVEN.length + " entities (groups x group size), got " + groups + " x " + groupSize);
            if (dim < 1) throw new IllegalArgumentException("feature dimension must be positive, got " + dim);
        }

        /** The demo's size: 4 groups of 3 look-alike entities, 32-d images, 12 training mentions per entity. */
        public static Settings demo() { return new Settings(4, 3, 32, 12, 4, 4, 0.2, 42); }
    }

    /** Where {@link #write} put the files. */
    public record BenchmarkFiles(Path train, Path dev, Path test, Path kb, Path features) {
    }

    private static final String[] SURNAMES = {"Marlow", "Quill", "Ashby", "Corvin", "Dunmore", "Fenwick", "Halloran", "Ivers",
            "Kestrel", "Lindqvist", "Montague", "Norcross", "Pemberton", "Rook", "Sallow", "Thorne"};
    // one given name per entity, each with its own initial, so that entities differ from their first token on
    private static final String[] GIVEN = {"Ada", "Ben", "Cleo", "Dara", "Emil", "Fay", "Gus", "Hana", "Ivo", "Juno", "Kai", "Lena", "Milo",
            "Nora", "Otto", "Pia", "Quin", "Rosa", "Sven", "Tara", "Uma", "Vito", "Wren", "Xia", "Yara", "Zeno"};
    private static final String[] TEMPLATES = {
            "%s arrived in the city on a rainy morning.",
            "A photo of %s at the opening night.",
            "%s spoke briefly to the crowd.",
            "People gathered outside to see %s.",
            "Yesterday %s visited the old harbour.",
            "The museum shows a portrait of %s."};

    public static SyntheticBenchmark generate(Settings s) {
        SplitMix64 random = new SplitMix64(s.seed());
        List<KbEntity> entities = new ArrayList<>();
        List<String> mentions = new ArrayList<>();
        List<float[]> prototypes = new ArrayList<>();
        for (int g = 0; g < s.groups(); g++)
            for (int m = 0; m < s.groupSize(); m++) {
                entities.add(new KbEntity(String.format("E%03d", entities.size() + 1), GIVEN[entities.size()] + " " + SURNAMES[g], null));
                mentions.add(SURNAMES[g]);
                float[] p = new float[s.dim()];
                for (int i = 0; i < p.length; i++) p[i] = (float) random.nextGaussian();
                prototypes.add(p);
            }
        Map<String, float[]> features = new LinkedHashMap<>();
        List<MelExample> train = split("train", s.trainPerEntity(), entities, mentions, prototypes, s, random, features);
        List<MelExample> dev = split("dev", s.devPerEntity(), entities, mentions, prototypes, s, random, features);
        List<MelExample> test = split("test", s.testPerEntity(), entities, mentions, prototypes, s, random, features);
        return new SyntheticBenchmark(List.copyOf(entities), train, dev, test, features, s.dim());
    }

    /** Mentions of every entity, interleaved (entity 0, 1, ..., then again), each with its own noisy image. */
    private static List<MelExample> split(String name, int perEntity, List<KbEntity> entities, List<String> mentions, List<float[]> prototypes,
                                          Settings s, SplitMix64 random, Map<String, float[]> features) {
        List<MelExample> out = new ArrayList<>();
        for (int round = 0; round < perEntity; round++)
            for (int e = 0; e < entities.size(); e++) {
                String image = String.format("%s_%05d.jpg", name, out.size());
                float[] f = prototypes.get(e).clone();
                for (int i = 0; i < f.length; i++) f[i] += (float) (s.noise() * random.nextGaussian());
                features.put(image, f);
                String text = String.format(TEMPLATES[random.nextInt(TEMPLATES.length)], mentions.get(e));
                out.add(new MelExample(text, mentions.get(e), image, MelExample.ImageKeyKind.NAME, entities.get(e).id(), entities.get(e).name()));
            }
        return List.copyOf(out);
    }

    /** Every text a tokenizer for this benchmark should know well: the sentences and, as often as they are answers, the entity names. */
    public List<String> corpus() {
        List<String> texts = new ArrayList<>();
        for (List<MelExample> split : List.of(train, dev, test))
            for (MelExample e : split) {
                texts.add(e.text());
                texts.add(e.target());
            }
        return texts;
    }

    /** Writes train/dev/test JSON lines, {@code kb.jsonl} and the feature store into {@code dir}. */
    public BenchmarkFiles write(Path dir) throws IOException {
        BenchmarkFiles files = new BenchmarkFiles(dir.resolve("train.jsonl"), dir.resolve("dev.jsonl"), dir.resolve("test.jsonl"), dir.resolve("kb.jsonl"),
                dir.resolve("features" + FeatureStore.EXTENSION));
        MelJsonlWriter.write(files.train(), train);
        MelJsonlWriter.write(files.dev(), dev);
        MelJsonlWriter.write(files.test(), test);
        ObjectMapper json = new ObjectMapper();
        AtomicFile.writeStream(files.kb(), out -> {
            for (KbEntity e : entities) {
                ObjectNode line = json.createObjectNode().put("id", e.id()).put("name", e.name());
                out.write(json.writeValueAsBytes(line));
                out.write('\n');
            }
        });
        try (FeatureStoreWriter writer = new FeatureStoreWriter(files.features(), dim)) {
            for (Map.Entry<String, float[]> f : features.entrySet()) writer.add(f.getKey(), f.getValue());
            writer.commit();
        }
        return files;
    }
}
