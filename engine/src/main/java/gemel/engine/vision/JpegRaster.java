package gemel.engine.vision;

import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.util.Arrays;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * A JPEG turned into RGB the way Pillow gets it from libjpeg: the decoder's raw samples (chroma
 * already upsampled, no colour conversion, embedded ICC profiles ignored), the colour space guessed
 * from the JFIF / Adobe markers and component ids as libjpeg does, YCbCr and YCCK converted with
 * libjpeg's fixed-point tables ({@code jdcolor.c}), and 4-channel data read as Pillow's inverted
 * "CMYK;I". Reading the raw samples matters: the ImageIO readers apply an embedded ICC profile,
 * which Pillow does not.
 */
final class JpegRaster {
    private static final String METADATA = "javax_imageio_jpeg_image_1.0";
    private static final int SCALE_BITS = 16, HALF = 1 << (SCALE_BITS - 1);
    private static final int[] CR_R = new int[256], CB_B = new int[256], CR_G = new int[256], CB_G = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int x = i - 128;
            CR_R[i] = (fix(1.40200) * x + HALF) >> SCALE_BITS;
            CB_B[i] = (fix(1.77200) * x + HALF) >> SCALE_BITS;
            CR_G[i] = -fix(0.71414) * x;
            CB_G[i] = -fix(0.34414) * x + HALF;
        }
    }

    private JpegRaster() {}

    static RgbImage decode(ImageReader reader, String where) throws IOException {
        Raster raw = reader.readRaster(0, null);
        int bands = raw.getNumBands(), w = raw.getWidth(), h = raw.getHeight();
        for (int b = 0; b < bands; b++)
            if (raw.getSampleModel().getSampleSize(b) != 8)
                throw new BadImageException(where + ": " + raw.getSampleModel().getSampleSize(b) + "-bit JPEG samples are not supported");
        Markers markers = Markers.of(reader);
        switch (bands) {
            case 1 -> {
                byte[] out = new byte[Math.multiplyExact(w * h, 3)];
                int[] row = new int[w];
                for (int y = 0; y < h; y++) {
                    raw.getSamples(raw.getMinX(), raw.getMinY() + y, w, 1, 0, row);
                    for (int x = 0, o = y * w * 3; x < w; x++, o += 3) out[o] = out[o + 1] = out[o + 2] = (byte) row[x];
                }
                return new RgbImage(w, h, out);
            }
            case 3 -> {
                boolean ycc = markers.threeComponentsAreYcc();
                byte[] out = new byte[Math.multiplyExact(w * h, 3)];
                int[] row = new int[w * 3];
                for (int y = 0; y < h; y++) {
                    raw.getPixels(raw.getMinX(), raw.getMinY() + y, w, 1, row);
                    for (int x = 0, o = y * w * 3; x < w; x++, o += 3) {
                        int c0 = row[x * 3], c1 = row[x * 3 + 1], c2 = row[x * 3 + 2];
                        if (ycc) {
                            out[o] = (byte) clamp(c0 + CR_R[c2]);
                            out[o + 1] = (byte) clamp(c0 + ((CB_G[c1] + CR_G[c2]) >> SCALE_BITS));
                            out[o + 2] = (byte) clamp(c0 + CB_B[c1]);
                        } else {
                            out[o] = (byte) c0;
                            out[o + 1] = (byte) c1;
                            out[o + 2] = (byte) c2;
                        }
                    }
                }
                return new RgbImage(w, h, out);
            }
            case 4 -> {
                Raster cmyk = markers.fourComponentsAreYcck() ? ycckToCmyk(raw) : raw;
                // Pillow reads every 4-channel JPEG as inverted CMYK ("assume adobe conventions").
                return ImageDecoder.cmykToRgb(cmyk, true, where);
            }
            default -> throw new BadImageException(where + ": JPEG with " + bands + " components is not supported");
        }
    }

    /** libjpeg's YCCK to CMYK: YCbCr to RGB, then 255 minus; K passes through. */
    private static Raster ycckToCmyk(Raster raw) {
        int w = raw.getWidth(), h = raw.getHeight();
        WritableRaster out = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        int[] row = new int[w * 4];
        for (int y = 0; y < h; y++) {
            raw.getPixels(raw.getMinX(), raw.getMinY() + y, w, 1, row);
            for (int i = 0; i < w * 4; i += 4) {
                int yy = row[i], cb = row[i + 1], cr = row[i + 2];
                row[i] = clamp(255 - (yy + CR_R[cr]));
                row[i + 1] = clamp(255 - (yy + ((CB_G[cb] + CR_G[cr]) >> SCALE_BITS)));
                row[i + 2] = clamp(255 - (yy + CB_B[cb]));
            }
            out.setPixels(0, y, w, 1, row);
        }
        return out;
    }

    private static int fix(double v) { return (int) (v * (1 << SCALE_BITS) + 0.5); }

    private static int clamp(int v) { return v < 0 ? 0 : Math.min(v, 255); }

    /** The markers libjpeg's {@code default_decompress_parms} reads to guess the colour space. */
    private record Markers(boolean jfif, int adobeTransform /* -1 without an Adobe marker */, int[] componentIds) {

        static Markers of(ImageReader reader) throws IOException {
            IIOMetadata metadata = reader.getImageMetadata(0);
            if (metadata == null || !Arrays.asList(metadata.getMetadataFormatNames()).contains(METADATA))
                throw new BadImageException("the JPEG reader gives no " + METADATA + " metadata");
            IIOMetadataNode root = (IIOMetadataNode) metadata.getAsTree(METADATA);
            NodeList adobe = root.getElementsByTagName("app14Adobe");
            int transform = -1;
            if (adobe.getLength() > 0) {
                String t = ((Element) adobe.item(0)).getAttribute("transform");
                transform = t.isEmpty() ? -1 : Integer.parseInt(t);
            }
            NodeList specs = root.getElementsByTagName("componentSpec");
            int[] ids = new int[specs.getLength()];
            for (int i = 0; i < ids.length; i++) ids[i] = Integer.parseInt(((Element) specs.item(i)).getAttribute("componentId"));
            return new Markers(root.getElementsByTagName("app0JFIF").getLength() > 0, transform, ids);
        }

        boolean threeComponentsAreYcc() {
            if (jfif) return true;
            if (adobeTransform >= 0) return adobeTransform != 0;
            return !(componentIds.length == 3 && componentIds[0] == 'R' && componentIds[1] == 'G' && componentIds[2] == 'B');
        }

        boolean fourComponentsAreYcck() {
            return adobeTransform >= 0 && adobeTransform != 0;
        }
    }
}
