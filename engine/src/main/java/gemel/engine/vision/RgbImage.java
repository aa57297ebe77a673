package gemel.engine.vision;

/**
 * An 8-bit RGB image, rows top to bottom, pixels interleaved: {@code pixels[(y * width + x) * 3 + c]}
 * holds channel {@code c} (0 red, 1 green, 2 blue) as an unsigned byte.
 */
public record RgbImage(int width, int height, byte[] pixels /* [height * width * 3] */) {

    public RgbImage {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        if (pixels.length != (long) width * height * 3)
            throw new IllegalArgumentException("a " + width + "x" + height + " RGB image needs " + (long) width * height * 3
                    + " bytes, got " + pixels.length);
    }

    /** Channel {@code c} of pixel ({@code x}, {@code y}) as 0..255. */
    public int get(int x, int y, int c) { return pixels[(y * width + x) * 3 + c] & 0xff; }
}
