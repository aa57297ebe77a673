package gemel.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Appends one JSON object per measurement to the results file the report reads (the PyTorch peer
 * appends to the same file), and says on stderr what was just measured, so a long run shows progress.
 */
public final class ResultLog {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final String section;
    private final long start = System.nanoTime();

    public ResultLog(Path file, String section) {
        this.file = file;
        this.section = section;
    }

    /** {@code keysAndValues}: name, value, name, value... */
    public void record(Object... keysAndValues) {
        if (keysAndValues.length % 2 != 0) throw new IllegalArgumentException("a record needs name/value pairs");
        Map<String, Object> fields = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) fields.put((String) keysAndValues[i], keysAndValues[i + 1]);
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("section", section);
        rec.put("impl", "gemel");
        rec.putAll(fields);
        try {
            Files.writeString(file, JSON.writeValueAsString(rec) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file + ": " + e.getMessage(), e);
        }
        String shown = fields.entrySet().stream().map(e -> e.getKey() + "=" + brief(e.getValue())).collect(Collectors.joining(" "));
        System.err.printf("gemel [%.0f s] %s%n", (System.nanoTime() - start) / 1e9, shown);
    }

    private static String brief(Object v) {
        if (v instanceof double[] a) return a.length > 4 ? "[" + a.length + " values]" : Arrays.toString(a);
        if (v instanceof Double d) return String.format("%.4g", d);
        if (v instanceof int[] a) return Arrays.toString(a);
        return String.valueOf(v);
    }
}
