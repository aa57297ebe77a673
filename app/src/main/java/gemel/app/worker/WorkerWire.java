package gemel.app.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.generate.Hypothesis;
import gemel.engine.grad.InputGradients;
import gemel.link.DecodingOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes between a trainer and its workers, little-endian. A gradient request: "GMLG", tokens and width (int32), the
 * embeddings [tokens, width] (float32), the labels [tokens] (int32, -100 for none); its answer: "GMLR", the loss
 * (float64), the targets counted (int32), the gradient [tokens, width] (float32). A search request: "GMLS", tokens and
 * width, beams, new tokens, hypotheses kept, constrained (int32 each), length penalty (float64), the embeddings; its
 * answer is JSON, {@code [{"tokens": [...], "score": s, "ended": b}, ...]}. Every size is checked against the bytes
 * that came.
 */
public final class WorkerWire {
    private static final int REQUEST = 0x474c4d47, ANSWER = 0x524c4d47, SEARCH = 0x534c4d47; // "GMLG", "GMLR", "GMLS" as little-endian int32
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A request as read: embeddings [tokens, width] and labels [tokens]. */
    public record Request(float[] embeds, int tokens, int width, int[] labels) {}

    private WorkerWire() {}

    public static byte[] request(float[] embeds, int tokens, int[] labels) {
        int width = embeds.length / tokens;
        ByteBuffer b = ByteBuffer.allocate(12 + 4 * embeds.length + 4 * tokens).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(REQUEST).putInt(tokens).putInt(width);
        b.asFloatBuffer().put(embeds);
        b.position(b.position() + 4 * embeds.length);
        b.asIntBuffer().put(labels, 0, tokens);
        return b.array();
    }

    /** The request in {@code bytes}, or an error saying what does not fit. */
    public static Request readRequest(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 12 || b.getInt() != REQUEST) throw new IllegalArgumentException("not a gradient request");
        int tokens = b.getInt(), width = b.getInt();
        if (tokens < 1 || width < 1 || 12 + 4L * tokens * width + 4L * tokens != bytes.length)
            throw new IllegalArgumentException("a request of " + tokens + " tokens x " + width + " values needs "
                    + (12 + 4L * tokens * width + 4L * tokens) + " bytes, got " + bytes.length);
        float[] embeds = new float[tokens * width];
        b.asFloatBuffer().get(embeds);
        b.position(b.position() + 4 * embeds.length);
        int[] labels = new int[tokens];
        b.asIntBuffer().get(labels);
        return new Request(embeds, tokens, width, labels);
    }

    public static byte[] answer(InputGradients.Result r) {
        ByteBuffer b = ByteBuffer.allocate(16 + 4 * r.gradients().length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(ANSWER).putDouble(r.loss()).putInt(r.targets());
        b.asFloatBuffer().put(r.gradients());
        return b.array();
    }

    /** The answer in {@code bytes} to a request of {@code values} embedding values, or an error saying what does not fit. */
    public static InputGradients.Result readAnswer(byte[] bytes, int values) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length != 16 + 4L * values || b.getInt() != ANSWER)
            throw new IllegalArgumentException("not the answer to a request of " + values + " values (" + bytes.length + " bytes)");
        double loss = b.getDouble();
        int targets = b.getInt();
        float[] gradients = new float[values];
        b.asFloatBuffer().get(gradients);
        return new InputGradients.Result(loss, targets, gradients);
    }

    /** A search request as read: the prompt's embeddings [tokens, width] and how to decode. */
    public record Search(float[] embeds, int tokens, int width, DecodingOptions decoding) {}

    public static byte[] search(float[] embeds, int tokens, DecodingOptions d) {
        ByteBuffer b = ByteBuffer.allocate(36 + 4 * embeds.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(SEARCH).putInt(tokens).putInt(embeds.length / tokens).putInt(d.numBeams()).putInt(d.maxNewTokens()).putInt(d.keep())
                .putInt(d.constrained() ? 1 : 0).putDouble(d.lengthPenalty());
        b.asFloatBuffer().put(embeds);
        return b.array();
    }

    public static Search readSearch(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 36 || b.getInt() != SEARCH) throw new IllegalArgumentException("not a search request");
        int tokens = b.getInt(), width = b.getInt(), beams = b.getInt(), newTokens = b.getInt(), keep = b.getInt(), constrained = b.getInt();
        double penalty = b.getDouble();
        if (tokens < 1 || width < 1 || 36 + 4L * tokens * width != bytes.length)
            throw new IllegalArgumentException("a search of " + tokens + " tokens x " + width + " values needs " + (36 + 4L * tokens * width)
                    + " bytes, got " + bytes.length);
        float[] embeds = new float[tokens * width];
        b.asFloatBuffer().get(embeds);
        return new Search(embeds, tokens, width, new DecodingOptions(beams, newTokens, penalty, constrained != 0, keep));
    }

    public static byte[] hypotheses(List<Hypothesis> found) throws IOException {
        ArrayNode array = JSON.createArrayNode();
        for (Hypothesis h : found) {
            ObjectNode node = array.addObject();
            ArrayNode tokens = node.putArray("tokens");
            for (int t : h.tokens()) tokens.add(t);
            node.put("score", h.score()).put("ended", h.ended());
        }
        return JSON.writeValueAsBytes(array);
    }

    public static List<Hypothesis> readHypotheses(byte[] bytes) throws IOException {
        JsonNode array = JSON.readTree(bytes);
        if (array == null || !array.isArray()) throw new IllegalArgumentException("not a list of hypotheses");
        List<Hypothesis> found = new ArrayList<>();
        for (JsonNode node : array) {
            JsonNode tokens = node.get("tokens");
            int[] ids = new int[tokens.size()];
            for (int i = 0; i < ids.length; i++) ids[i] = tokens.get(i).asInt();
            found.add(new Hypothesis(ids, node.get("score").asDouble(), node.get("ended").asBoolean()));
        }
        return found;
    }
}
