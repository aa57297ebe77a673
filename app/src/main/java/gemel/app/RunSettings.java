package gemel.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The settings a command runs with, as a run's journal and its shards compare them: the command's name and every option
 * given or defaulted, but those named as not deciding the results. A file counts by its name and size and a folder by its name and the
 * names and sizes of the files in it, not by where they are, so that copies on other machines match and a file
 * replaced by another of a different size does not.
 */
final class RunSettings {
    private RunSettings() {}

    static Map<String, String> of(CommandSpec spec, Set<String> notDeciding) {
        Map<String, String> settings = new TreeMap<>();
        settings.put("command", spec.qualifiedName(" "));
        for (OptionSpec option : spec.options()) {
            String name = option.longestName();
            Object value = option.getValue();
            if (value == null || option.usageHelp() || option.versionHelp() || notDeciding.contains(name)) continue;
            settings.put(name, value instanceof Path p ? identity(p) : String.valueOf(value));
        }
        return settings;
    }

    private static String identity(Path p) {
        try {
            if (Files.isRegularFile(p)) return p.getFileName() + " (" + Files.size(p) + " bytes)";
            if (!Files.isDirectory(p)) return p.getFileName() + " (missing)";
            long files = 0, bytes = 0;
            try (Stream<Path> children = Files.list(p)) {
                for (Path c : children.filter(Files::isRegularFile).toList()) {
                    files++;
                    bytes += Files.size(c);
                }
            }
            return p.getFileName() + " (" + files + " files, " + bytes + " bytes)";
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": cannot read: " + e.getMessage(), e);
        }
    }
}
