package gemel.link;

import gemel.engine.model.CausalLM;
import java.util.List;

/**
 * A model input laid out as GEMEL lays it out: a list of segments, each either the {@code k}
 * visual prefix tokens of one image or the token ids of one text piece, {@code length} positions in
 * all. {@code labels} [length] is set for training (the target ids at their own positions, -100
 * elsewhere) and null otherwise.
 */
public record Prompt(List<Segment> segments, int length, int[] labels) {
    /** The label of positions that do not count in the loss (torch's {@code ignore_index}). */
    public static final int IGNORE = -100;

    /** A run of positions starting at {@code start}. */
    public sealed interface Segment permits ImageSlot, Text {
        int start();

        int length();
    }

    /** {@code tokens} positions filled by the feature mapper's output for {@code feature} [dimClip]. */
    public record ImageSlot(int start, int tokens, float[] feature) implements Segment {
        @Override
        public int length() { return tokens; }
    }

    /** Positions filled by the model's input embeddings of {@code ids}. */
    public record Text(int start, int[] ids) implements Segment {
        @Override
        public int length() { return ids.length; }
    }

    /** The input embeddings [length, inputWidth]: mapped image tokens and embedded text ids, in order. */
    public float[] embeddings(CausalLM model, FeatureMapper mapper) {
        int width = model.shape().inputWidth();
        mapper.requireFits(model.shape(), "in use");
        float[] out = new float[Math.multiplyExact(length, width)];
        for (Segment s : segments) {
            switch (s) {
                case ImageSlot image -> {
                    if (image.tokens() != mapper.tokens())
                        throw new IllegalArgumentException("prompt has " + image.tokens() + " tokens per image, the mapper makes " + mapper.tokens());
                    mapper.map(image.feature(), out, image.start() * width);
                }
                case Text text -> {
                    for (int i = 0; i < text.ids().length; i++) model.embed(text.ids()[i], out, (text.start() + i) * width);
                }
            }
        }
        return out;
    }
}
