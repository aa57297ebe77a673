package gemel.app.worker;

import gemel.engine.grad.InputGradients;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The bytes of a gradient request and its answer, little-endian. Request: "GMLG", tokens and width (int32), the
 * embeddings [tokens, width] (float32), the labels [tokens] (int32, -100 for none). Answer: "GMLR", the loss (float64),
 * the targets counted (int32), the gradient [tokens, width] (float32). Every size is checked against the bytes that came.
 */
public final class GradientWire {
    private static final int REQUEST = 0x474c4d47, ANSWER = 0x524c4d47; // "GMLG", "GMLR" as little-endian int32

    /** A request as read: embeddings [tokens, width] and labels [tokens]. */
    public record Request(float[] embeds, int tokens, int width, int[] labels) {}

    private GradientWire() {}

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
}
