package gemel.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Draws a metrics log as a PNG (Java2D, headless): training loss per optimizer step on the left
 * axis, dev accuracy on the right axis (0..100 %). Written atomically.
 */
public final class TrainingPlot {
    private static final int WIDTH = 900, HEIGHT = 500, LEFT = 70, RIGHT = 70, TOP = 40, BOTTOM = 50;

    private TrainingPlot() {
    }

    /** Plots the "train" (step, loss) and "dev" (step, accuracy) events of {@code events} into {@code png}. */
    public static void write(List<Map<String, Object>> events, String title, Path png) {
        double[][] loss = series(events, "train", "loss");
        double[][] accuracy = series(events, "dev", "accuracy");
        double maxStep = 1, maxLoss = 1e-9;
        for (double[] p : loss) { maxStep = Math.max(maxStep, p[0]); maxLoss = Math.max(maxLoss, p[1]); }
        for (double[] p : accuracy) maxStep = Math.max(maxStep, p[0]);

        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        int plotW = WIDTH - LEFT - RIGHT, plotH = HEIGHT - TOP - BOTTOM;
        g.setColor(Color.GRAY);
        g.drawRect(LEFT, TOP, plotW, plotH);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i <= 4; i++) {
            int y = TOP + plotH - i * plotH / 4;
            g.setColor(new Color(230, 230, 230));
            g.drawLine(LEFT + 1, y, LEFT + plotW - 1, y);
            g.setColor(new Color(30, 90, 200));
            g.drawString(String.format(Locale.ROOT, "%.3g", maxLoss * i / 4), 8, y + 4);
            g.setColor(new Color(200, 80, 20));
            g.drawString(i * 25 + " %", LEFT + plotW + 8, y + 4);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%.0f", maxStep * i / 4), LEFT + i * plotW / 4 - 10, TOP + plotH + 18);
        }
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, LEFT, TOP - 14);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString("optimizer step", LEFT + plotW / 2 - 40, HEIGHT - 12);
        g.setColor(new Color(30, 90, 200));
        g.drawString("train loss", LEFT, TOP - 2);
        g.setColor(new Color(200, 80, 20));
        g.drawString("dev accuracy", LEFT + plotW - 80, TOP - 2);

        g.setStroke(new BasicStroke(1.5f));
        draw(g, loss, maxStep, maxLoss, new Color(30, 90, 200), plotW, plotH);
        draw(g, accuracy, maxStep, 1.0, new Color(200, 80, 20), plotW, plotH);
        for (double[] p : accuracy) {
            int x = LEFT + (int) Math.round(p[0] / maxStep * plotW), y = TOP + plotH - (int) Math.round(p[1] * plotH);
            g.fillOval(x - 3, y - 3, 7, 7);
        }
        g.dispose();
        try {
            Path dir = png.toAbsolutePath().getParent();
            Path temp = Files.createTempFile(dir, png.getFileName().toString(), ".tmp");
            if (!ImageIO.write(image, "png", temp.toFile())) throw new IOException("no PNG writer");
            Files.move(temp, png, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write plot " + png + ": " + e.getMessage(), e);
        }
    }

    private static double[][] series(List<Map<String, Object>> events, String kind, String field) {
        return events.stream()
                .filter(e -> kind.equals(e.get("kind")) && e.get("step") instanceof Number && e.get(field) instanceof Number)
                .map(e -> new double[] {((Number) e.get("step")).doubleValue(), ((Number) e.get(field)).doubleValue()})
                .toArray(double[][]::new);
    }

    private static void draw(Graphics2D g, double[][] points, double maxX, double maxY, Color color, int plotW, int plotH) {
        if (points.length == 0) return;
        Path2D.Double line = new Path2D.Double();
        for (int i = 0; i < points.length; i++) {
            double x = LEFT + points[i][0] / maxX * plotW, y = TOP + plotH - Math.min(1, points[i][1] / maxY) * plotH;
            if (i == 0) line.moveTo(x, y);
            else line.lineTo(x, y);
        }
        g.setColor(color);
        g.draw(line);
    }
}
