package gemel.demos;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A sentence encoder run in-process by ONNX Runtime (through langchain4j): by default all-MiniLM-L6-v2,
 * which ships inside a dependency, or any BERT-style encoder exported to a folder holding
 * {@code model.onnx} and {@code tokenizer.json}. The vectors are pooled over the last hidden state (CLS
 * token or mean over tokens) and L2-normalised.
 *
 * <p>The reference uses {@code sup-simcse-roberta-large}'s {@code pooler_output} (CLS followed by a dense
 * layer and tanh). An ONNX export gives the same ranking only if its first output is that pooled vector;
 * with the plain last hidden state, CLS pooling is the closest match.
 */
public final class OnnxSentenceEncoder implements SentenceEncoder {
    private final EmbeddingModel model;
    private final String id;

    private OnnxSentenceEncoder(EmbeddingModel model, String id) {
        this.model = model;
        this.id = id;
    }

    /** all-MiniLM-L6-v2 (384-d, mean pooling), loaded from the class path. */
    public static OnnxSentenceEncoder allMiniLmL6V2() {
        return new OnnxSentenceEncoder(new AllMiniLmL6V2EmbeddingModel(), "all-MiniLM-L6-v2");
    }

    /** The encoder in {@code folder} ({@code model.onnx} + {@code tokenizer.json}) with the given pooling. */
    public static OnnxSentenceEncoder fromFolder(Path folder, PoolingMode pooling) throws IOException {
        Path onnx = folder.resolve("model.onnx");
        Path tokenizer = folder.resolve("tokenizer.json");
        for (Path p : List.of(onnx, tokenizer))
            if (!Files.isRegularFile(p))
                throw new IllegalArgumentException(folder + ": sentence-encoder folder lacks " + p.getFileName()
                        + " (needs model.onnx and tokenizer.json)");
        // the id changes whenever the model file does, so a stale cache is never reused
        String id = "onnx-" + folder.toAbsolutePath().normalize().getFileName() + "-" + pooling.name().toLowerCase(Locale.ROOT)
                + "-" + Files.size(onnx) + "-" + Files.getLastModifiedTime(onnx).toMillis();
        return new OnnxSentenceEncoder(new OnnxEmbeddingModel(onnx, tokenizer, pooling), id);
    }

    @Override
    public String id() { return id; }

    @Override
    public float[][] embed(List<String> texts) {
        List<TextSegment> segments = new ArrayList<>(texts.size());
        for (String t : texts) segments.add(TextSegment.from(t));
        List<Embedding> embeddings = model.embedAll(segments).content();
        float[][] out = new float[embeddings.size()][];
        for (int i = 0; i < out.length; i++) out[i] = embeddings.get(i).vector();
        return out;
    }
}
