package gemel.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Decodes pickles Python wrote (tools/fixtures/io/make_torch_files.py) and compares with the data it recorded as JSON. */
class TorchPickleTest {
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_LONG_FOR_INTS);

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(TorchPickleTest.class.getResource("/io/torch/" + name).toURI());
    }

    private static Object load(String name) throws IOException, URISyntaxException {
        return TorchPickle.load(name, MemorySegment.ofArray(Files.readAllBytes(fixture(name))));
    }

    private static Object load(byte[] pickle) {
        return TorchPickle.load("test.pkl", MemorySegment.ofArray(pickle));
    }

    @Test
    void plainDataInProtocols2And4() throws Exception {
        JsonNode expected = JSON.readTree(fixture("expected.json").toFile()).get("plain");
        for (String file : new String[]{"plain_p2.pickle", "plain_p4.pickle"}) {
            Object value = load(file);
            assertEquals(expected, JSON.valueToTree(value), file);
            Map<?, ?> dict = (Map<?, ?>) value;
            assertSame(dict.get("alias_a"), dict.get("alias_b"), file + ": a memoized object is shared, not copied");
        }
    }

    @Test
    void refusesGlobalsOffTheAllowList() {
        String msg = assertThrows(IllegalArgumentException.class, () -> load("counter_p4.pickle")).getMessage();
        assertTrue(msg.contains("refusing to load collections.Counter") && msg.contains("counter_p4.pickle"), msg);
        // a storage type is a tag for a persistent id, never something to call
        byte[] callStorage = "\u0080\u0002ctorch\nFloatStorage\n)R.".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        msg = assertThrows(IllegalArgumentException.class, () -> load(callStorage)).getMessage();
        assertTrue(msg.contains("torch.FloatStorage") && msg.contains("not something to call"), msg);
    }

    @Test
    void malformedPicklesAreNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> load(new byte[]{(byte) 0x80, 2, 'K'})).getMessage()
                .contains("ends early"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> load(new byte[]{(byte) 0x80, 2, 'h', 9, '.'})).getMessage()
                .contains("memo key 9"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> load(new byte[]{(byte) 0x80, 2, 'i', '.'})).getMessage()
                .contains("opcode 0x69"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> load(new byte[]{(byte) 0x80, 2, 'K', 1, 'K', 2, '.'})).getMessage()
                .contains("STOP leaves"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> load(new byte[]{(byte) 0x80, 2, 'K', 1, 'u', '.'})).getMessage()
                .contains("no MARK"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> load(new byte[]{(byte) 0x80, 2, 'K', 1, 'K', 2, 'K', 3, 's', '.'}))
                .getMessage().contains("setting an item on a Long"));
    }
}
