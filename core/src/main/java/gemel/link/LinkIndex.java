package gemel.link;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.data.KnowledgeBase;
import gemel.engine.io.AtomicFile;
import gemel.engine.model.ModelShape;
import gemel.engine.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * What linking precomputes once per model and knowledge base, kept in a folder:
 * {@value #TREE} (the entity tree of every KB name, entries {@code [start] + ids(name) + [end]}),
 * {@value #MANIFEST} (which model and KB the tree was built for: architecture, vocabulary, start/end
 * tokens, number of names and a SHA-256 of them, the tree's entries and nodes), and {@value #EMBEDDINGS}/ (cached sentence
 * embeddings of training mentions for demonstration retrieval). Using a tree with another model or
 * knowledge base is an error that says which part differs.
 */
public final class LinkIndex {
    public static final String TREE = "entity-tree.bin";
    public static final String MANIFEST = "index.json";
    public static final String EMBEDDINGS = "embeddings";
    private static final String FORMAT = "gemel.link_index";
    private static final ObjectMapper JSON = new ObjectMapper();

    private LinkIndex() {}

    /** Builds the tree of {@code kb}'s names for this model and tokenizer, and writes it with its manifest into {@code dir}. */
    public static EntityTree build(Path dir, Tokenizer tokenizer, ModelShape model, KnowledgeBase kb, PrintStream progress) throws IOException {
        EntityTree tree = buildTree(tokenizer, model, kb, progress);
        Files.createDirectories(dir);
        // no manifest vouches for the tree while it is replaced: a rebuild stopped halfway is no index
        Files.deleteIfExists(dir.resolve(MANIFEST));
        tree.save(dir.resolve(TREE));
        ObjectNode manifest = expected(model, kb).put("format", FORMAT).put("entries", tree.entryCount()).put("nodes", tree.nodeCount());
        AtomicFile.writeStream(dir.resolve(MANIFEST), out -> out.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest)));
        return tree;
    }

    /** The tree of {@code kb} for this model: built in memory when {@code dir} is null, else read from the index folder and checked. */
    public static EntityTree tree(Path dir, Tokenizer tokenizer, ModelShape model, KnowledgeBase kb, PrintStream progress) throws IOException {
        if (dir == null) return buildTree(tokenizer, model, kb, progress);
        Path manifestFile = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile))
            throw new IllegalArgumentException(dir + ": not a link index (no " + MANIFEST + "); build one with 'gemel index'");
        JsonNode manifest = JSON.readTree(manifestFile.toFile());
        if (!FORMAT.equals(manifest.path("format").asText()))
            throw new IllegalArgumentException(manifestFile + ": not a link index manifest (format '" + manifest.path("format").asText() + "')");
        ObjectNode want = expected(model, kb);
        for (var it = want.fields(); it.hasNext(); ) {
            var field = it.next();
            JsonNode got = manifest.get(field.getKey());
            if (!field.getValue().equals(got))
                throw new IllegalArgumentException(dir + " was built for another " + (field.getKey().startsWith("kb") ? "knowledge base" : "model")
                        + ": " + field.getKey() + " is " + got + " there, " + field.getValue() + " here; rebuild it with 'gemel index'");
        }
        EntityTree tree = EntityTree.load(dir.resolve(TREE));
        // names that tokenize alike share an entry, so the tree is checked against its own counts, not the KB's
        if (tree.entryCount() != manifest.path("entries").asInt() || tree.nodeCount() != manifest.path("nodes").asInt())
            throw new IllegalArgumentException(dir.resolve(TREE) + " holds " + tree.entryCount() + " entries in " + tree.nodeCount() + " nodes, "
                    + manifestFile + " says " + manifest.path("entries") + " in " + manifest.path("nodes") + ": it was replaced; rebuild it with 'gemel index'");
        return tree;
    }

    private static EntityTree buildTree(Tokenizer tokenizer, ModelShape model, KnowledgeBase kb, PrintStream progress) {
        if (tokenizer.vocabSize() > model.vocabSize())
            throw new IllegalArgumentException("the tokenizer knows " + tokenizer.vocabSize() + " ids but the model only " + model.vocabSize()
                    + ": they do not belong together");
        return EntityNames.tree(tokenizer, kb.names(), model.bosTokenId(), model.eosTokenId(), progress);
    }

    /** The manifest fields that must match for a tree to be reused. */
    private static ObjectNode expected(ModelShape model, KnowledgeBase kb) {
        List<String> names = kb.names();
        return JSON.createObjectNode()
                .put("architecture", model.architecture())
                .put("vocab_size", model.vocabSize())
                .put("start_token", model.bosTokenId())
                .put("end_token", model.eosTokenId())
                .put("kb_names", names.size())
                .put("kb_names_sha256", sha256(names));
    }

    private static String sha256(List<String> names) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String n : names) {
                sha.update(n.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
