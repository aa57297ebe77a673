package gemel.link;

import gemel.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds GEMEL's input sequence exactly as the reference does: for each demonstration its image
 * tokens then {@code [Text]{text}\n[Question]What does {mention} mentioned in the text refer to?\n[Answer]{answer}\n},
 * then the query's image tokens and the same text up to {@code [Answer]}. Each text piece is
 * tokenized on its own with the tokenizer's defaults and its leading BOS dropped, so the sequence
 * has no BOS. Thread-safe.
 */
public final class PromptBuilder {
    private final Tokenizer tokenizer;
    private final int imageTokens;

    public PromptBuilder(Tokenizer tokenizer, int imageTokens) {
        if (imageTokens < 1) throw new IllegalArgumentException("image tokens per image must be >= 1, got " + imageTokens);
        this.tokenizer = tokenizer;
        this.imageTokens = imageTokens;
    }

    /** The query's text piece (without the answer). */
    static String question(String text, String mention) {
        return "[Text]" + text + "\n[Question]What does " + mention + " mentioned in the text refer to?\n[Answer]";
    }

    /** The prompt to generate from: demonstrations in the given order (the most similar last), then the query. */
    public Prompt build(List<Demonstration> demonstrations, String text, String mention, float[] image) {
        return assemble(demonstrations, text, mention, image, null);
    }

    /** The training sequence: the prompt, then the target's ids and the end token, which alone carry labels. */
    public Prompt buildTraining(List<Demonstration> demonstrations, String text, String mention, float[] image, String target) {
        return assemble(demonstrations, text, mention, image, target);
    }

    /** The ids of {@code target} followed by the end token, as the reference's {@code tokenize(target + "</s>")} minus BOS. */
    public int[] targetIds(String target) {
        Integer eos = tokenizer.eosTokenId();
        if (eos == null) throw new IllegalStateException("the tokenizer has no end-of-sequence token to end a target with");
        int[] ids = encodePiece(target);
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = eos;
        return out;
    }

    private Prompt assemble(List<Demonstration> demonstrations, String text, String mention, float[] image, String target) {
        List<Prompt.Segment> segments = new ArrayList<>(2 * demonstrations.size() + 3);
        int at = 0;
        for (Demonstration d : demonstrations) {
            segments.add(new Prompt.ImageSlot(at, imageTokens, d.image()));
            at += imageTokens;
            Prompt.Text piece = new Prompt.Text(at, encodePiece(question(d.text(), d.mention()) + d.answer() + "\n"));
            segments.add(piece);
            at += piece.length();
        }
        segments.add(new Prompt.ImageSlot(at, imageTokens, image));
        at += imageTokens;
        Prompt.Text query = new Prompt.Text(at, encodePiece(question(text, mention)));
        segments.add(query);
        at += query.length();
        if (target == null) return new Prompt(List.copyOf(segments), at, null);

        Prompt.Text answer = new Prompt.Text(at, targetIds(target));
        segments.add(answer);
        int length = at + answer.length();
        int[] labels = new int[length];
        Arrays.fill(labels, Prompt.IGNORE);
        System.arraycopy(answer.ids(), 0, labels, at, answer.length());
        return new Prompt(List.copyOf(segments), length, labels);
    }

    /** The tokenizer's default ids of one piece, without the BOS it puts in front (OPT: 2). */
    private int[] encodePiece(String piece) {
        int[] ids = tokenizer.encode(piece);
        Integer bos = tokenizer.bosTokenId();
        return bos != null && ids.length > 0 && ids[0] == bos ? Arrays.copyOfRange(ids, 1, ids.length) : ids;
    }
}
