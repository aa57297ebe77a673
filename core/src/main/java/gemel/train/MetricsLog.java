package gemel.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Training metrics as JSON lines, one object per event ({@code {"kind":"train","step":..,"loss":..}}
 * or {@code {"kind":"dev",...}}), flushed at once so a crash loses nothing already logged.
 * A resumed run keeps the lines up to its checkpoint's step and appends after them.
 */
public final class MetricsLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final BufferedWriter out;

    private MetricsLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /** Starts a fresh log (any old content is replaced). */
    public static MetricsLog create(Path file) {
        try {
            return new MetricsLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics to " + file + ": " + e.getMessage(), e);
        }
    }

    /** Continues a log: drops lines of optimizer steps after {@code step} (logged after the checkpoint) and appends. */
    public static MetricsLog resume(Path file, long step) {
        try {
            List<String> kept = new ArrayList<>();
            for (Map<String, Object> line : read(file)) {
                Object s = line.get("step");
                if (!(s instanceof Number n) || n.longValue() <= step) kept.add(JSON.writeValueAsString(line));
            }
            Path temp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
            Files.write(temp, kept, StandardCharsets.UTF_8);
            Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return new MetricsLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resume metrics in " + file + ": " + e.getMessage(), e);
        }
    }

    /** Appends one event: {@code kind} first, then the fields in the given order. */
    public void log(String kind, Map<String, ?> fields) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("kind", kind);
        line.putAll(fields);
        try {
            out.write(JSON.writeValueAsString(line));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics to " + file + ": " + e.getMessage(), e);
        }
    }

    /** Every event of a log file, in order; a malformed line is an error naming its number. */
    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> read(Path file) {
        List<Map<String, Object>> lines = new ArrayList<>();
        if (!Files.exists(file)) return lines;
        try {
            int number = 0;
            for (String text : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                number++;
                if (text.isBlank()) continue;
                try {
                    lines.add(JSON.readValue(text, LinkedHashMap.class));
                } catch (IOException e) {
                    throw new IllegalArgumentException(file + ":" + number + ": not a JSON object: " + e.getMessage());
                }
            }
            return lines;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read metrics " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close metrics " + file + ": " + e.getMessage(), e);
        }
    }
}
