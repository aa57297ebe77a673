package gemel.app;

import dev.langchain4j.model.embedding.onnx.PoolingMode;
import gemel.demos.OnnxSentenceEncoder;
import gemel.demos.SentenceEncoder;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The sentence encoder that embeds mentions for demonstration retrieval, chosen alike by every command that retrieves. */
final class SentenceEncoderOptions {
    @Option(names = "--encoder", description = "sentence encoder folder (model.onnx + tokenizer.json) for retrieval; default: all-MiniLM-L6-v2, built in")
    Path encoder;

    // CLS: the closest a plain last hidden state comes to the reference SimCSE's pooler_output
    @Option(names = "--pooling", defaultValue = "CLS", description = "pooling of an --encoder folder: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    PoolingMode pooling;

    /** --encoder with its pooling, or the built-in all-MiniLM-L6-v2. */
    SentenceEncoder open() throws IOException {
        return encoder == null ? OnnxSentenceEncoder.allMiniLmL6V2() : OnnxSentenceEncoder.fromFolder(encoder, pooling);
    }
}
