package gemel.engine.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The tokenizer of a Hugging Face model folder, giving the ids transformers' fast tokenizer gives.
 *
 * <p>A folder with {@code tokenizer.json} is loaded as is. A GPT-2/OPT folder with only {@code vocab.json} +
 * {@code merges.txt} is converted first, as GPT2TokenizerFast does (so OPT's {@code </s>} goes in front). Encoding
 * runs in the native HF {@code tokenizers} library through DJL; {@code decode} then applies transformers'
 * {@code clean_up_tokenization_spaces} when the folder asks for it (the default of transformers 4.30).
 *
 * <p>Special tokens written in the text (e.g. {@code "name</s>"}) map to their ids. Instances are immutable and
 * thread-safe.
 */
public final class Tokenizer {
    /** Without truncation or padding: a prompt of any length keeps every token. */
    private static final Map<String, String> DJL_OPTIONS = Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false");

    private final HuggingFaceTokenizer backend;
    private final TokenVocabulary vocabulary;
    private final Integer bos, eos, pad;        // null when the model has none
    private final boolean cleanUpSpaces;

    private Tokenizer(HuggingFaceTokenizer backend, TokenVocabulary vocabulary, Integer bos, Integer eos, Integer pad, boolean cleanUpSpaces) {
        this.backend = backend;
        this.vocabulary = vocabulary;
        this.bos = bos;
        this.eos = eos;
        this.pad = pad;
        this.cleanUpSpaces = cleanUpSpaces;
    }

    /**
     * Loads the tokenizer of {@code modelDir}: {@code tokenizer.json}, else {@code vocab.json} + {@code merges.txt};
     * an error saying what is missing when neither is there.
     */
    public static Tokenizer load(Path modelDir) {
        if (!Files.isDirectory(modelDir)) throw new IllegalArgumentException("not a directory: " + modelDir);
        TokenizerSettings settings = TokenizerSettings.read(modelDir);
        Path tokenizerJson = modelDir.resolve("tokenizer.json");
        Path vocab = modelDir.resolve("vocab.json");
        Path merges = modelDir.resolve("merges.txt");
        ObjectNode json;
        Path source;
        if (Files.isRegularFile(tokenizerJson)) {
            json = readJson(tokenizerJson);
            source = tokenizerJson;
            SpecialTokens.register(json, settings.allSpecial(), source);
        } else if (Files.isRegularFile(vocab) || Files.isRegularFile(merges)) {
            if (!Files.isRegularFile(vocab)) throw new IllegalArgumentException(modelDir + ": has merges.txt but no vocab.json");
            if (!Files.isRegularFile(merges)) throw new IllegalArgumentException(modelDir + ": has vocab.json but no merges.txt");
            settings = settings.withGpt2Defaults();
            json = ByteLevelBpeConverter.convert(modelDir, settings);
            source = vocab;
        } else if (Files.isRegularFile(modelDir.resolve("tokenizer.model"))) {
            throw new IllegalArgumentException(modelDir + ": only a SentencePiece tokenizer.model, which is not supported; a tokenizer.json is needed");
        } else {
            throw new IllegalArgumentException("no tokenizer files in " + modelDir + ": expected tokenizer.json, or vocab.json + merges.txt");
        }
        TokenVocabulary vocabulary = TokenVocabulary.of(json, source);
        JsonNode modelConfig = TokenizerSettings.readObject(modelDir.resolve("config.json"));
        return new Tokenizer(createBackend(json, source), vocabulary,
                specialId("bos_token", settings, vocabulary, modelConfig, modelDir),
                specialId("eos_token", settings, vocabulary, modelConfig, modelDir),
                specialId("pad_token", settings, vocabulary, modelConfig, modelDir),
                settings.flag("clean_up_tokenization_spaces", true));
    }

    /** The ids of {@code text} with the special tokens the model adds by default (OPT: a leading {@code </s>}). */
    public int[] encode(String text) { return encode(text, true); }

    public int[] encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text");
        return toInts(backend.encode(text, addSpecialTokens, false));
    }

    /** Encodes many texts at once (the native library spreads them over the cores); results in input order. */
    public List<int[]> encodeAll(List<String> texts, boolean addSpecialTokens) {
        if (texts.isEmpty()) return List.of();
        String[] array = texts.toArray(String[]::new);
        for (int i = 0; i < array.length; i++) if (array[i] == null) throw new NullPointerException("text at index " + i + " is null");
        Encoding[] encodings = backend.batchEncode(array, addSpecialTokens, false);
        List<int[]> out = new ArrayList<>(encodings.length);
        for (Encoding e : encodings) out.add(toInts(e));
        return out;
    }

    /**
     * The text of {@code ids}, special tokens left out when {@code skipSpecialTokens}, then cleaned up like
     * transformers' decode when the tokenizer config asks for it. An id the tokenizer does not know is an error.
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (!vocabulary.isKnown(ids[i])) throw new IllegalArgumentException("token id " + ids[i] + " at position " + i + " is not in the vocabulary (" + vocabulary.size() + " ids)");
            longs[i] = ids[i];
        }
        String text = backend.decode(longs, skipSpecialTokens);
        return cleanUpSpaces ? cleanUpTokenization(text) : text;
    }

    public Integer bosTokenId() { return bos; }

    public Integer eosTokenId() { return eos; }

    public Integer padTokenId() { return pad; }

    /** How many ids the tokenizer knows, added tokens included (transformers' {@code len(tokenizer)}). */
    public int vocabSize() { return vocabulary.size(); }

    public boolean isSpecial(int id) { return vocabulary.specialIds().contains(id); }

    /** The ids {@code decode(ids, true)} leaves out. */
    public Set<Integer> specialIds() { return vocabulary.specialIds(); }

    /** transformers' {@code clean_up_tokenization}: drops the space English tokenizers put before punctuation and clitics. */
    static String cleanUpTokenization(String text) {
        return text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s").replace(" 've", "'ve").replace(" 're", "'re");
    }

    /**
     * The id of a special-token role: from the tokenizer files, else (when they do not mention the role at all) the
     * {@code <role>_id} of config.json; null when the model has none.
     */
    private static Integer specialId(String role, TokenizerSettings settings, TokenVocabulary vocabulary, JsonNode modelConfig, Path dir) {
        TokenizerSettings.Token token = settings.token(role);
        if (token != null) {
            Integer id = vocabulary.id(token.content());
            if (id == null) throw new IllegalArgumentException(dir + ": " + role + " \"" + token.content() + "\" is not a token of the tokenizer");
            return id;
        }
        if (settings.isExplicitlyNone(role)) return null;
        JsonNode id = modelConfig.get(role + "_id");
        if (id != null && id.isArray() && !id.isEmpty()) id = id.get(0); // e.g. Llama 3.1 lists several eos ids
        if (id == null || !id.canConvertToInt()) return null;
        if (!vocabulary.isKnown(id.asInt())) throw new IllegalArgumentException(dir.resolve("config.json") + ": " + role + "_id " + id.asInt() + " is not a token of the tokenizer");
        return id.asInt();
    }

    private static HuggingFaceTokenizer createBackend(JsonNode json, Path source) {
        // DJL otherwise probes the EC2 metadata address (seconds of time-outs off AWS) to report usage
        if (System.getenv("OPT_OUT_TRACKING") == null) System.setProperty("OPT_OUT_TRACKING", "true");
        byte[] bytes = json.toString().getBytes(StandardCharsets.UTF_8);
        try {
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), DJL_OPTIONS);
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": cannot load the tokenizer: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(source + ": the tokenizers library rejects it: " + e.getMessage(), e);
        }
    }

    private static ObjectNode readJson(Path file) {
        JsonNode root = TokenizerSettings.readObject(file);
        if (root.isEmpty()) throw new IllegalArgumentException(file + ": empty JSON object");
        return (ObjectNode) root;
    }

    private static int[] toInts(Encoding encoding) {
        long[] ids = encoding.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }
}
