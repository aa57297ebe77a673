package gemel.engine.vision;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;

/**
 * Reads an image file (JPEG incl. CMYK/YCCK and grayscale, PNG, BMP, GIF, TIFF, WebP) into 8-bit RGB
 * exactly as Pillow's {@code Image.open(f).convert("RGB")} does: alpha is dropped (not composited),
 * palettes are looked up, 16-bit RGB keeps the high byte, 16-bit gray without alpha saturates at 255
 * (Pillow goes through mode "I"), JPEGs are converted from their raw samples as libjpeg does (see
 * {@link JpegRaster}), CMYK is mapped with Pillow's {@code cmyk2rgb}, embedded ICC profiles are
 * ignored, no EXIF rotation, first frame only. Lossy WebP is the exception: its decoder here differs
 * from libwebp by a few levels.
 *
 * <p>The image size is read from the header before any pixel is decoded, so a decompression bomb is
 * an error, not an OutOfMemoryError. Truncated or corrupt data is an error too (Pillow refuses
 * truncated files by default), never a partly grey picture.
 */
public final class ImageDecoder {
    /** Pillow's {@code MAX_IMAGE_PIXELS}: above it Pillow warns, above twice it Pillow refuses. */
    public static final long PILLOW_MAX_IMAGE_PIXELS = 89_478_485L;

    /**
     * Decoder warnings that mean the data ended early (libjpeg's "Premature end of JPEG file", the JPEG
     * plugin's "Truncated File"). Pillow refuses truncated files; it accepts what libjpeg merely warns
     * about otherwise ("Corrupt JPEG data: extraneous bytes..."), and so does this decoder.
     */
    private static final java.util.regex.Pattern DAMAGE_WARNING = java.util.regex.Pattern.compile("(?i)premature end|truncat");

    private final long maxPixels;

    /** A decoder refusing images of more than {@code maxPixels} pixels. */
    public ImageDecoder(long maxPixels) {
        if (maxPixels <= 0) throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
        this.maxPixels = maxPixels;
    }

    /** A decoder that refuses what Pillow refuses as a decompression bomb (more than twice its limit). */
    public static ImageDecoder pillowLimits() { return new ImageDecoder(2 * PILLOW_MAX_IMAGE_PIXELS); }

    public long maxPixels() { return maxPixels; }

    /** Decodes {@code file} (streamed, not read whole); every failure is a {@link BadImageException} naming the file. */
    public RgbImage read(Path file) throws BadImageException {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new BadImageException(file + ": cannot read: " + e, e);
        }
        if (size == 0) throw new BadImageException(file + ": empty file");
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new BadImageException(file + ": cannot open for reading");
            return decode(in, file.toString());
        } catch (IOException e) {
            if (e instanceof BadImageException bad) throw bad;
            throw new BadImageException(file + ": cannot read: " + e, e);
        }
    }

    /** Decodes an encoded image held in memory; {@code name} says where it came from in errors. */
    public RgbImage decode(byte[] encoded, String name) throws BadImageException {
        if (encoded.length == 0) throw new BadImageException(name + ": empty file");
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(encoded))) {
            return decode(in, name);
        } catch (IOException e) {
            if (e instanceof BadImageException bad) throw bad;
            throw new BadImageException(name + ": cannot read: " + e, e);
        }
    }

    private RgbImage decode(ImageInputStream in, String name) throws BadImageException {
        try {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext())
                throw new BadImageException(name + ": not an image in a supported format (JPEG, PNG, BMP, GIF, TIFF, WebP); starts with "
                        + leadingBytes(in));
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                String format = reader.getFormatName().toLowerCase(java.util.Locale.ROOT);
                long width = reader.getWidth(0), height = reader.getHeight(0);
                if (width <= 0 || height <= 0) throw new BadImageException(name + ": " + format + " header declares size " + width + "x" + height);
                if (width * height > maxPixels)
                    throw new BadImageException(name + ": " + format + " image of " + width + "x" + height + " = " + width * height
                            + " pixels exceeds the limit of " + maxPixels + " pixels (possible decompression bomb)");
                // A truncated file would come out partly grey: abort instead.
                reader.addIIOReadWarningListener((source, warning) -> {
                    if (DAMAGE_WARNING.matcher(warning).find()) throw new CorruptData(warning);
                });
                String where = name + " (" + format + ")";
                if (format.equals("jpeg")) return JpegRaster.decode(reader, where);
                ImageReadParam param = reader.getDefaultReadParam();
                ImageTypeSpecifier raw = rawDestination(reader);
                if (raw != null) param.setDestinationType(raw);
                return toRgb(reader.read(0, param), where);
            } finally {
                reader.dispose();
            }
        } catch (BadImageException e) {
            throw e;
        } catch (CorruptData e) {
            throw new BadImageException(name + ": corrupt or truncated image data: " + e.getMessage(), e);
        } catch (IIOException e) {
            throw new BadImageException(name + ": corrupt or truncated image data: " + causeChain(e), e);
        } catch (IOException | RuntimeException e) {
            throw new BadImageException(name + ": cannot decode: " + causeChain(e), e);
        }
    }

    /** A decoder warning, carried out of the listener to abort the read. */
    private static final class CorruptData extends RuntimeException {
        CorruptData(String message) { super(message, null, false, false); }
    }

    /**
     * The output type that keeps the decoded samples as stored, when the reader would otherwise
     * colour-manage them: raw CMYK, or the embedded profile's own RGB space (a WebP ICC profile);
     * Pillow applies no profile. Null when the default type already is the stored samples.
     */
    private static ImageTypeSpecifier rawDestination(ImageReader reader) throws IOException {
        ImageTypeSpecifier embeddedRgb = null;
        for (Iterator<ImageTypeSpecifier> it = reader.getImageTypes(0); it.hasNext(); ) {
            ImageTypeSpecifier type = it.next();
            ColorSpace space = type.getColorModel().getColorSpace();
            if (space.getType() == ColorSpace.TYPE_CMYK) return type;
            if (embeddedRgb == null && space.getType() == ColorSpace.TYPE_RGB && space instanceof java.awt.color.ICC_ColorSpace && !space.isCS_sRGB())
                embeddedRgb = type;
        }
        return embeddedRgb;
    }

    private static RgbImage toRgb(BufferedImage image, String where) throws BadImageException {
        int w = image.getWidth(), h = image.getHeight();
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        if (cm.isAlphaPremultiplied()) throw new BadImageException(where + ": premultiplied alpha is not supported");
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int bands = raster.getNumBands();
        int[] row = new int[w * bands];
        if (cm instanceof IndexColorModel palette) {
            for (int y = 0; y < h; y++) {
                raster.getPixels(0, y, w, 1, row);
                for (int x = 0, o = y * w * 3; x < w; x++, o += 3) {
                    int index = row[x];
                    out[o] = (byte) palette.getRed(index);
                    out[o + 1] = (byte) palette.getGreen(index);
                    out[o + 2] = (byte) palette.getBlue(index);
                }
            }
            return new RgbImage(w, h, out);
        }
        int space = cm.getColorSpace().getType();
        int bits = raster.getSampleModel().getSampleSize(0);
        for (int b = 1; b < bands; b++)
            if (raster.getSampleModel().getSampleSize(b) != bits)
                throw new BadImageException(where + ": bands of different bit depths are not supported");
        switch (space) {
            case ColorSpace.TYPE_GRAY -> {
                for (int y = 0; y < h; y++) {
                    raster.getPixels(0, y, w, 1, row);
                    for (int x = 0, o = y * w * 3; x < w; x++, o += 3) {
                        byte v = (byte) grayTo8Bit(row[x * bands], bits, bands > 1, where);
                        out[o] = v;
                        out[o + 1] = v;
                        out[o + 2] = v;
                    }
                }
            }
            case ColorSpace.TYPE_RGB -> {
                if (bands < 3) throw new BadImageException(where + ": RGB image with " + bands + " bands");
                for (int y = 0; y < h; y++) {
                    raster.getPixels(0, y, w, 1, row);
                    for (int x = 0, o = y * w * 3; x < w; x++, o += 3)
                        for (int c = 0; c < 3; c++) out[o + c] = (byte) colorTo8Bit(row[x * bands + c], bits, where);
                }
            }
            case ColorSpace.TYPE_CMYK -> {
                return cmykToRgb(raster, false, where);
            }
            default -> throw new BadImageException(where + ": unsupported colour space (java.awt.color.ColorSpace type " + space + ")");
        }
        return new RgbImage(w, h, out);
    }

    /** CMYK samples to RGB with Pillow's {@code cmyk2rgb}; {@code inverted}: the samples are stored 255 minus the ink. */
    static RgbImage cmykToRgb(Raster raster, boolean inverted, String where) throws BadImageException {
        int w = raster.getWidth(), h = raster.getHeight();
        if (raster.getNumBands() != 4) throw new BadImageException(where + ": only CMYK without alpha is supported");
        for (int b = 0; b < 4; b++)
            if (raster.getSampleModel().getSampleSize(b) != 8) throw new BadImageException(where + ": only 8-bit CMYK is supported");
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int[] row = new int[w * 4];
        int flip = inverted ? 0xff : 0;
        for (int y = 0; y < h; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            for (int x = 0, o = y * w * 3; x < w; x++, o += 3) {
                int notK = 255 - (row[x * 4 + 3] ^ flip);
                for (int c = 0; c < 3; c++) out[o + c] = (byte) (notK - mulDiv255(row[x * 4 + c] ^ flip, notK));
            }
        }
        return new RgbImage(w, h, out);
    }

    /** Pillow's rounded {@code a * b / 255} (its MULDIV255 macro). */
    private static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    /**
     * Gray samples: 16-bit gray alone opens in Pillow's mode "I", whose conversion to RGB clips at 255;
     * 16-bit gray with alpha opens as "LA" keeping the high byte.
     */
    private static int grayTo8Bit(int v, int bits, boolean withAlpha, String where) throws BadImageException {
        if (bits == 16 && !withAlpha) return Math.min(v, 255);
        return colorTo8Bit(v, bits, where);
    }

    /** Colour samples: 16-bit keeps the high byte (Pillow's "RGB;16B"); 1..7 bits stretch to 0..255 truncating. */
    private static int colorTo8Bit(int v, int bits, String where) throws BadImageException {
        if (bits == 8) return v;
        if (bits == 16) return v >>> 8;
        if (bits >= 1 && bits < 8) return v * 255 / ((1 << bits) - 1);
        throw new BadImageException(where + ": " + bits + "-bit samples are not supported");
    }

    private static String leadingBytes(ImageInputStream in) throws IOException {
        byte[] head = new byte[8];
        in.seek(0);
        int n = Math.max(0, in.read(head));
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) s.append(String.format("%02x ", head[i] & 0xff));
        return s.toString().trim();
    }

    private static String causeChain(Throwable e) {
        StringBuilder s = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause())
            if (c.getMessage() != null && !s.toString().contains(c.getMessage())) s.append(": ").append(c.getMessage());
        return s.toString();
    }
}
