package gemel.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Checks that a computation gives the same bits interpreted and compiled: {@code mainClass}'s main
 * prints the computation's lines in a JVM started with -Xint (as the first calls of any run are
 * interpreted), and this JVM compares them with its own after enough calls for the JIT to compile
 * the kernels. Each line is a label, then values as hex bit patterns separated by spaces.
 */
public final class InterpretedRun {
    private InterpretedRun() {}

    public static void assertSameBits(Class<?> mainClass, Supplier<List<String>> lines, int warmUpCalls) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xint"));
        command.addAll(vectorWidthOptions());
        command.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                mainClass.getName()));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String interpreted = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) p.destroyForcibly();
        assertEquals(0, p.exitValue(), "the -Xint run failed");
        for (int i = 0; i < warmUpCalls; i++) lines.get();
        List<String> compiled = lines.get();
        List<String> fromInterpreter = interpreted.lines().toList();
        assertEquals(compiled.size(), fromInterpreter.size(), "lines printed by the -Xint run");
        for (int i = 0; i < compiled.size(); i++) {
            String[] a = fromInterpreter.get(i).split(" "), b = compiled.get(i).split(" ");
            assertEquals(a.length, b.length, b[0]);
            for (int j = 1; j < a.length; j++) assertEquals(a[j], b[j], b[0] + ": value " + (j - 1) + " (bits) interpreted vs compiled");
        }
    }

    /**
     * This JVM's options that choose the preferred vector width (e.g. -XX:UseAVX=2, which makes an AVX-512 machine run as
     * an AVX2 one): a child with other lane counts would sum in another order and differ in its last bits.
     */
    private static List<String> vectorWidthOptions() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-XX:UseAVX=") || a.startsWith("-XX:MaxVectorSize=") || a.startsWith("-XX:UseSSE="))
                .toList();
    }
}
