package gemel.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** Runs a command's work; bad input ends with its message (which names the file and place) and exit code 1. */
final class CommandErrors {
    /** The work of a command. */
    @FunctionalInterface
    interface Work {
        void run() throws IOException;
    }

    private CommandErrors() {}

    static int guarded(String command, Work work) {
        try {
            work.run();
            return 0;
        } catch (IOException | UncheckedIOException | IllegalArgumentException | IllegalStateException e) {
            System.err.println("gemel " + command + ": " + message(e));
            return 1;
        }
    }

    /** The exception's message; the file-system exceptions whose message is the bare path say what happened to it. */
    private static String message(Exception e) {
        return switch (e) {
            case NoSuchFileException n -> "no such file: " + n.getFile();
            case AccessDeniedException a -> "permission denied: " + a.getFile();
            default -> e.getMessage();
        };
    }
}
