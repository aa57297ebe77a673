package gemel.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import gemel.engine.kernel.MatMul;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class AlternatingStepsTest {

    /** Two builds (here the same one, each in its own class loader) time a cached product in turn; both medians print. */
    @Test
    void productsOfTwoBuildsAreTimedInTurn() throws Exception {
        String engine = engineClasses();
        assertBothTimed(printedBy("product", "F16", "64", "96", "2", "5", engine, engine),
                "F16 \\[64, 96] times 2 tokens \\(cached\\): A ([0-9.]+) ms, B ([0-9.]+) ms \\(medians of 5 alternating steps; B / A ([0-9.]+);");
    }

    /** Prompts of two builds (the same one twice) on a real model folder, timed in turn; both medians print. */
    @Test
    void promptsOfTwoBuildsAreTimedInTurn() throws Exception {
        String engine = engineClasses(), model = Path.of(System.getProperty("gemel.shared")).resolve("models/stories260k").toString();
        assertBothTimed(printedBy("prefill", model, "40", "3", engine, engine),
                "stories260k, prompts of 40 tokens: A ([0-9.]+) ms, B ([0-9.]+) ms \\(medians of 3 alternating steps; B / A ([0-9.]+);");
    }

    private static String engineClasses() throws Exception {
        return Path.of(MatMul.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    /** What {@code AlternatingSteps.main(args)} prints. */
    private static String printedBy(String... args) throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = System.out;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            AlternatingSteps.main(args);
        } finally {
            System.setOut(out);
        }
        return printed.toString(StandardCharsets.UTF_8);
    }

    /** The line matches {@code pattern}, whose first two groups (A's and B's medians) are positive. */
    private static void assertBothTimed(String line, String pattern) {
        Matcher m = Pattern.compile(pattern).matcher(line);
        assertTrue(m.find(), line);
        assertTrue(Double.parseDouble(m.group(1)) > 0 && Double.parseDouble(m.group(2)) > 0, line);
    }
}
