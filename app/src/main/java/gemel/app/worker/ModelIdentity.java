package gemel.app.worker;

import gemel.data.KnowledgeBase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.Stream;

/**
 * Which model a folder holds, as a trainer and its workers compare them: a SHA-256 of its config.json and of the names
 * and sizes of its weight files (not their bytes, which would take minutes to read at 7B), so that copies of one
 * checkpoint on several machines match wherever they are; and which names a knowledge base holds.
 */
public final class ModelIdentity {
    private ModelIdentity() {}

    public static String of(Path model) throws IOException {
        MessageDigest sha = sha256();
        sha.update(Files.readAllBytes(model.resolve("config.json")));
        try (Stream<Path> files = Files.list(model)) {
            for (Path f : files.sorted().toList())
                if (f.getFileName().toString().matches(".*\\.(safetensors|bin)"))
                    sha.update((f.getFileName() + ":" + Files.size(f) + ";").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 12);
    }

    /** Which names a knowledge base holds, in order: what a worker's entity tree is built from. */
    public static String of(KnowledgeBase kb) {
        MessageDigest sha = sha256();
        for (String name : kb.names()) sha.update((name + "\n").getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(sha.digest(), 0, 12);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
