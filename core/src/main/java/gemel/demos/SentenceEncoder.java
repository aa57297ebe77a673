package gemel.demos;

import java.util.List;

/** Turns short texts (mentions) into vectors whose cosine similarity says how alike they are. */
public interface SentenceEncoder {
    /** Names the encoder and its settings; embeddings cached under one id are reused only for that id. */
    String id();

    /** One vector per text, [texts.size()][dim], in order. */
    float[][] embed(List<String> texts);
}
