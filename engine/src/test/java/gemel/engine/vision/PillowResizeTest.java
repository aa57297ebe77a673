package gemel.engine.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PillowResizeTest {

    /** Every filter, up and down, odd factors: byte-identical to Pillow 9.4's Image.resize. */
    @Test
    void matchesPillowForEveryFilter() throws Exception {
        Path dir = VisionFixtures.dir().resolve("resize");
        RgbImage source = ImageDecoder.pillowLimits().read(dir.resolve("source.png"));
        JsonNode cases = new ObjectMapper().readTree(dir.resolve("cases.json").toFile());
        assertEquals(25, cases.size());
        for (JsonNode c : cases) {
            RgbImage out = PillowResize.resize(source, c.get("width").asInt(), c.get("height").asInt(),
                    PillowResize.Filter.ofPillowCode(c.get("filter").asInt()));
            assertArrayEquals(Files.readAllBytes(dir.resolve(c.get("file").asText())), out.pixels(), c.get("file").asText());
        }
    }

    @Test
    void sameSizeIsACopy() throws Exception {
        RgbImage source = ImageDecoder.pillowLimits().read(VisionFixtures.dir().resolve("resize/source.png"));
        RgbImage same = PillowResize.resize(source, source.width(), source.height(), PillowResize.Filter.BICUBIC);
        assertArrayEquals(source.pixels(), same.pixels());
    }

    @Test
    void nearestAndUnknownFiltersAreErrors() {
        assertThrows(IllegalArgumentException.class, () -> PillowResize.Filter.ofPillowCode(0));
        assertThrows(IllegalArgumentException.class, () -> PillowResize.Filter.ofPillowCode(6));
    }
}
