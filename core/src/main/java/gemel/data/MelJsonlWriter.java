package gemel.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.io.AtomicFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Writes mentions as the reference's JSON lines (atomically), fields in the order the reference uses. */
public final class MelJsonlWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private MelJsonlWriter() {}

    public static void write(Path file, List<MelExample> examples) throws IOException {
        AtomicFile.writeStream(file, out -> {
            for (MelExample e : examples) {
                out.write(JSON.writeValueAsBytes(toJson(e)));
                out.write('\n');
            }
        });
    }

    /** One line's object: text, mention, img_url or img_name, golden, target. */
    public static ObjectNode toJson(MelExample e) {
        ObjectNode node = JSON.createObjectNode();
        node.put("text", e.text());
        node.put("mention", e.mention());
        node.put(e.imageKeyKind().field(), e.imageKey());
        node.put("golden", e.golden());
        node.put("target", e.target());
        return node;
    }
}
