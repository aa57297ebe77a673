package gemel.engine.vision;

/**
 * Resizes 8-bit RGB images bit for bit as Pillow's {@code Image.resize(size, filter)} does (its
 * {@code libImaging/Resample.c}, without {@code reducing_gap}): a separable filter whose support is
 * widened by the downscale factor, weights normalised per output pixel then turned into fixed-point
 * integers with 22 fraction bits, the horizontal pass first (only over the rows the vertical pass
 * will read), each pass rounding and clipping to 0..255, a pass skipped when its size is unchanged.
 */
public final class PillowResize {
    /** Pillow keeps 8 bits for the result and 2 for overshoot of the 32-bit accumulator. */
    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Pillow's resampling filters with their {@code Image.Resampling} codes (as in preprocessor configs). */
    public enum Filter {
        LANCZOS(1, 3.0), BILINEAR(2, 1.0), BICUBIC(3, 2.0), BOX(4, 0.5), HAMMING(5, 1.0);

        final int code;
        final double support;

        Filter(int code, double support) {
            this.code = code;
            this.support = support;
        }

        /** The filter with Pillow code {@code code}; NEAREST (0) and unknown codes are errors. */
        public static Filter ofPillowCode(int code) {
            for (Filter f : values()) if (f.code == code) return f;
            throw new IllegalArgumentException("unsupported resample filter " + code
                    + " (supported: 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming; 0 nearest is not)");
        }

        double weight(double x) {
            return switch (this) {
                case BOX -> x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
                case BILINEAR -> Math.abs(x) < 1.0 ? 1.0 - Math.abs(x) : 0.0;
                case HAMMING -> hamming(Math.abs(x));
                case BICUBIC -> bicubic(Math.abs(x));
                case LANCZOS -> -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
            };
        }

        /** Keys' cubic convolution with a = -0.5. */
        private static double bicubic(double x) {
            final double a = -0.5;
            if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
            return 0.0;
        }

        private static double hamming(double x) {
            if (x == 0.0) return 1.0;
            if (x >= 1.0) return 0.0;
            x = x * Math.PI;
            return Math.sin(x) / x * (0.54f + 0.46f * Math.cos(x));
        }

        private static double sinc(double x) {
            if (x == 0.0) return 1.0;
            x = x * Math.PI;
            return Math.sin(x) / x;
        }
    }

    /**
     * Fixed-point weights of one pass: output pixel {@code i} reads input pixels
     * {@code first[i] .. first[i] + count[i] - 1} with weights {@code weights[i * taps ..]}.
     */
    private record Coefficients(int taps, int[] first /* [out] */, int[] count /* [out] */, int[] weights /* [out * taps] */) {}

    private PillowResize() {}

    /** {@code image} resized to {@code width} x {@code height} with {@code filter}. */
    public static RgbImage resize(RgbImage image, int width, int height, Filter filter) {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("resize target must be positive, got " + width + "x" + height);
        Coefficients vertical = coefficients(image.height(), height, filter);
        boolean needHorizontal = width != image.width();
        boolean needVertical = height != image.height();
        byte[] pixels = image.pixels();
        int rowOffset = 0;
        if (needHorizontal) {
            // Only the rows the vertical pass will read.
            int firstRow = vertical.first[0];
            int lastRow = vertical.first[height - 1] + vertical.count[height - 1];
            pixels = horizontal(pixels, image.width(), firstRow, lastRow, coefficients(image.width(), width, filter), width);
            rowOffset = firstRow;
        }
        if (needVertical) pixels = vertical(pixels, width, rowOffset, vertical, height);
        else if (!needHorizontal) pixels = pixels.clone();
        return new RgbImage(width, height, pixels);
    }

    private static Coefficients coefficients(int inSize, int outSize, Filter filter) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
        int taps = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outSize], count = new int[outSize];
        int[] weights = new int[Math.multiplyExact(outSize, taps)];
        double[] w = new double[taps];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double invScale = 1.0 / filterScale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            double sum = 0.0;
            for (int x = 0; x < xmax; x++) {
                w[x] = filter.weight((x + xmin - center + 0.5) * invScale);
                sum += w[x];
            }
            for (int x = 0; x < xmax; x++) {
                double k = sum != 0.0 ? w[x] / sum : w[x];
                weights[xx * taps + x] = (int) (k < 0 ? -0.5 + k * (1 << PRECISION_BITS) : 0.5 + k * (1 << PRECISION_BITS));
            }
            first[xx] = xmin;
            count[xx] = xmax;
        }
        return new Coefficients(taps, first, count, weights);
    }

    /** Rows {@code firstRow .. lastRow-1} of {@code in} (width {@code inWidth}) resampled to {@code outWidth} columns. */
    private static byte[] horizontal(byte[] in, int inWidth, int firstRow, int lastRow, Coefficients k, int outWidth) {
        byte[] out = new byte[(lastRow - firstRow) * outWidth * 3];
        for (int y = firstRow; y < lastRow; y++) {
            int rowIn = y * inWidth * 3, rowOut = (y - firstRow) * outWidth * 3;
            for (int xx = 0; xx < outWidth; xx++) {
                int r = 1 << (PRECISION_BITS - 1), g = r, b = r;
                int base = xx * k.taps, src = rowIn + k.first[xx] * 3;
                for (int x = 0; x < k.count[xx]; x++, src += 3) {
                    int weight = k.weights[base + x];
                    r += (in[src] & 0xff) * weight;
                    g += (in[src + 1] & 0xff) * weight;
                    b += (in[src + 2] & 0xff) * weight;
                }
                out[rowOut + xx * 3] = clip8(r);
                out[rowOut + xx * 3 + 1] = clip8(g);
                out[rowOut + xx * 3 + 2] = clip8(b);
            }
        }
        return out;
    }

    /** {@code in} (width {@code width}, whose row 0 is source row {@code rowOffset}) resampled to {@code outHeight} rows. */
    private static byte[] vertical(byte[] in, int width, int rowOffset, Coefficients k, int outHeight) {
        byte[] out = new byte[outHeight * width * 3];
        int[] acc = new int[width * 3];
        for (int yy = 0; yy < outHeight; yy++) {
            java.util.Arrays.fill(acc, 1 << (PRECISION_BITS - 1));
            int base = yy * k.taps, first = k.first[yy] - rowOffset;
            for (int y = 0; y < k.count[yy]; y++) {
                int weight = k.weights[base + y], src = (first + y) * width * 3;
                for (int i = 0; i < acc.length; i++) acc[i] += (in[src + i] & 0xff) * weight;
            }
            for (int i = 0; i < acc.length; i++) out[yy * width * 3 + i] = clip8(acc[i]);
        }
        return out;
    }

    private static byte clip8(int accumulator) {
        int v = accumulator >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }
}
