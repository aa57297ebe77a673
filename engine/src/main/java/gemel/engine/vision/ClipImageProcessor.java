package gemel.engine.vision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The pixel side of CLIP as transformers' {@code CLIPImageProcessor} computes it from a
 * {@code preprocessor_config.json}: (RGB image) resize so the shortest edge becomes
 * {@code size.shortest_edge} (Pillow resampling, long edge {@code int(short * long / short)}) or to an
 * exact {@code height x width}; center crop at offsets {@code (in - out) // 2} (zero padding when the
 * image is smaller); rescale in double then round to float32; normalize {@code (x - mean) / std} in
 * float32. Immutable; safe to share between threads.
 */
public final class ClipImageProcessor {
    /** transformers' OPENAI_CLIP_MEAN / OPENAI_CLIP_STD, the defaults when a config omits them. */
    private static final double[] CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};
    private static final double[] CLIP_STD = {0.26862954, 0.26130258, 0.27577711};

    private final boolean doResize;
    private final int shortestEdge;              // > 0 when resizing by the shortest edge
    private final int resizeHeight, resizeWidth; // > 0 when resizing to an exact size
    private final PillowResize.Filter filter;
    private final boolean doCenterCrop;
    private final int cropHeight, cropWidth;
    private final boolean doRescale;
    private final double rescaleFactor;
    private final boolean doNormalize;
    private final float[] mean, std; // [3]

    private ClipImageProcessor(Path file, JsonNode c) {
        String where = file.toString();
        if (!c.path("do_convert_rgb").asBoolean(true))
            throw new IllegalArgumentException(where + ": do_convert_rgb=false is not supported (images are always read as RGB)");
        doResize = c.path("do_resize").asBoolean(true);
        int[] size = resizeTarget(c.get("size"), where); // {shortest edge, 0, 0} or {0, height, width}
        shortestEdge = size[0];
        resizeHeight = size[1];
        resizeWidth = size[2];
        filter = PillowResize.Filter.ofPillowCode(c.path("resample").asInt(3));
        doCenterCrop = c.path("do_center_crop").asBoolean(true);
        int[] crop = cropTarget(c.get("crop_size"), where); // {height, width}
        cropHeight = crop[0];
        cropWidth = crop[1];
        doRescale = c.path("do_rescale").asBoolean(true);
        rescaleFactor = c.has("rescale_factor") ? c.get("rescale_factor").asDouble() : 1.0 / 255;
        doNormalize = c.path("do_normalize").asBoolean(true);
        mean = perChannel(c.get("image_mean"), CLIP_MEAN, where, "image_mean");
        std = perChannel(c.get("image_std"), CLIP_STD, where, "image_std");
    }

    /** Reads {@code dir/preprocessor_config.json}. */
    public static ClipImageProcessor load(Path dir) {
        Path file = dir.resolve("preprocessor_config.json");
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no preprocessor_config.json in " + dir);
        try {
            JsonNode root = new ObjectMapper().readTree(file.toFile());
            if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": not a JSON object");
            return new ClipImageProcessor(file, root);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** From an already parsed config; {@code file} names it in errors. */
    public static ClipImageProcessor of(Path file, JsonNode config) { return new ClipImageProcessor(file, config); }

    /** Height of the pixel tensor this processor produces. */
    public int outputHeight() { return doCenterCrop ? cropHeight : doResize && shortestEdge == 0 ? resizeHeight : -1; }

    /** Width of the pixel tensor this processor produces ({@code -1}: depends on the image). */
    public int outputWidth() { return doCenterCrop ? cropWidth : doResize && shortestEdge == 0 ? resizeWidth : -1; }

    /** The image after resize and center crop, still 8-bit (what transformers holds before rescaling). */
    public RgbImage resizeAndCrop(RgbImage image) {
        if (doResize) {
            int[] hw = shortestEdge > 0 ? shortestEdgeSize(image.height(), image.width(), shortestEdge)
                    : new int[] {resizeHeight, resizeWidth};
            if (hw[0] != image.height() || hw[1] != image.width()) image = PillowResize.resize(image, hw[1], hw[0], filter);
        }
        return doCenterCrop ? centerCrop(image, cropHeight, cropWidth) : image;
    }

    /** Pixel values {@code [3, H, W]} (channel first) ready for the vision encoder. */
    public float[] pixelValues(RgbImage image) {
        RgbImage cropped = resizeAndCrop(image);
        int h = cropped.height(), w = cropped.width();
        float[] out = new float[3 * h * w];
        byte[] px = cropped.pixels();
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < h * w; i++) {
                int v = px[i * 3 + c] & 0xff;
                float x = doRescale ? (float) (v * rescaleFactor) : v;
                out[c * h * w + i] = doNormalize ? (x - mean[c]) / std[c] : x;
            }
        }
        return out;
    }

    /** transformers' {@code get_resize_output_image_size(default_to_square=False)}: {height, width}. */
    static int[] shortestEdgeSize(int height, int width, int size) {
        int shortSide = Math.min(height, width), longSide = Math.max(height, width);
        int newLong = (int) ((double) ((long) size * longSide) / shortSide);
        return width <= height ? new int[] {newLong, size} : new int[] {size, newLong};
    }

    /**
     * transformers' {@code center_crop}: the window at offsets {@code (in - out) // 2}. When the image is
     * smaller, transformers zero-pads it centred (the odd pixel before it) and crops the padded array;
     * that equals this window with zeros outside the image.
     */
    static RgbImage centerCrop(RgbImage image, int height, int width) {
        int top = Math.floorDiv(image.height() - height, 2), left = Math.floorDiv(image.width() - width, 2);
        byte[] out = new byte[height * width * 3];
        for (int y = 0; y < height; y++) {
            int sy = top + y;
            if (sy < 0 || sy >= image.height()) continue;
            int x0 = Math.max(0, -left), x1 = Math.min(width, image.width() - left);
            if (x1 > x0) System.arraycopy(image.pixels(), (sy * image.width() + left + x0) * 3, out, (y * width + x0) * 3, (x1 - x0) * 3);
        }
        return new RgbImage(width, height, out);
    }

    /** transformers' {@code get_size_dict(size, default_to_square=False)}: an int or absent means a shortest edge. */
    private static int[] resizeTarget(JsonNode size, String where) {
        if (size == null || size.isNull()) return new int[] {224, 0, 0};
        if (size.isInt()) return new int[] {positive(size.asInt(), where, "size"), 0, 0};
        if (size.has("shortest_edge")) return new int[] {positive(size.get("shortest_edge").asInt(), where, "size.shortest_edge"), 0, 0};
        if (size.has("height") && size.has("width"))
            return new int[] {0, positive(size.get("height").asInt(), where, "size.height"), positive(size.get("width").asInt(), where, "size.width")};
        throw new IllegalArgumentException(where + ": \"size\" must be an int, {\"shortest_edge\": n} or {\"height\": h, \"width\": w}, got " + size);
    }

    /** transformers' {@code get_size_dict(crop_size, default_to_square=True)}: an int means a square, absent 224. */
    private static int[] cropTarget(JsonNode crop, String where) {
        if (crop == null || crop.isNull()) return new int[] {224, 224};
        if (crop.isInt()) {
            int side = positive(crop.asInt(), where, "crop_size");
            return new int[] {side, side};
        }
        if (crop.has("height") && crop.has("width"))
            return new int[] {positive(crop.get("height").asInt(), where, "crop_size.height"), positive(crop.get("width").asInt(), where, "crop_size.width")};
        throw new IllegalArgumentException(where + ": \"crop_size\" must be an int or {\"height\": h, \"width\": w}, got " + crop);
    }

    private static int positive(int v, String where, String key) {
        if (v <= 0) throw new IllegalArgumentException(where + ": \"" + key + "\" must be a positive integer, got " + v);
        return v;
    }

    private static float[] perChannel(JsonNode n, double[] fallback, String where, String key) {
        float[] out = new float[3];
        if (n == null || n.isNull()) {
            for (int c = 0; c < 3; c++) out[c] = (float) fallback[c];
        } else if (n.isNumber()) {
            java.util.Arrays.fill(out, (float) n.asDouble());
        } else if (n.isArray() && n.size() == 3) {
            for (int c = 0; c < 3; c++) out[c] = (float) n.get(c).asDouble();
        } else {
            throw new IllegalArgumentException(where + ": \"" + key + "\" must be a number or 3 numbers, got " + n);
        }
        return out;
    }
}
