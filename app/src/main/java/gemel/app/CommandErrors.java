package gemel.app;

import java.io.IOException;

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
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            System.err.println("gemel " + command + ": " + e.getMessage());
            return 1;
        }
    }
}
