package gemel.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.io.AtomicFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The predictions an evaluation run has made so far, each appended to a file as it is made, so that a run stopped by a
 * crash, a kill or a lost machine resumes where it stopped: the first line names the run ({@link EvalRun}), each other
 * line is a prediction as the predictions file holds it. A line torn by a crash (the last, without its newline) is cut
 * off on reopening; any other bad line is an error naming it. A journal closed without predictions is removed. Lines reach the operating system as they are made (a
 * killed process loses none) and the disk at least every {@value #FORCE_NANOS} ns.
 */
public final class EvalJournal implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FORMAT = "gemel.eval_journal";
    private static final long FORCE_NANOS = 2_000_000_000L;

    private final Path file;
    private final EvalRun run;
    private final FileChannel channel;
    private final SortedMap<Integer, PredictionLine> lines = new TreeMap<>();
    private long lastForce = System.nanoTime();

    private EvalJournal(Path file, EvalRun run, FileChannel channel) {
        this.file = file;
        this.run = run;
        this.channel = channel;
    }

    /** The journal of {@code run} at {@code file}: what an earlier run of it left, or a new one. */
    public static EvalJournal open(Path file, EvalRun run) throws IOException {
        boolean resumed = Files.exists(file) && Files.size(file) > 0;
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (FileSystemException e) {
            throw new IOException("cannot write " + file + ": " + e.getReason(), e);
        }
        try {
            EvalJournal journal = new EvalJournal(file, run, channel);
            if (resumed) {
                journal.replay();
            } else {
                ObjectNode header = run.toJson().put("format", FORMAT);
                journal.write(JSON.writeValueAsString(header));
                channel.force(true);
            }
            return journal;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private void replay() throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int complete = 0; // bytes up to the last newline: whole lines
        for (int i = bytes.length - 1; i >= 0; i--) {
            if (bytes[i] == '\n') {
                complete = i + 1;
                break;
            }
        }
        String[] text = new String(bytes, 0, complete, StandardCharsets.UTF_8).split("\n", -1);
        JsonNode header;
        try {
            header = complete == 0 ? null : JSON.readTree(text[0]);
        } catch (IOException e) {
            header = null;
        }
        if (header == null || !FORMAT.equals(header.path("format").asText()))
            throw new IllegalArgumentException(file + ": not the journal of a gemel evaluation; delete it or choose another --out");
        String differs = run.differenceFrom(EvalRun.fromJson(header, file + " line 1"));
        if (differs != null)
            throw new IllegalArgumentException(file + " holds an interrupted evaluation of other settings (" + differs
                    + "): delete it to start over, or choose another --out");
        for (int n = 1; n < text.length - 1; n++) { // the last piece is what follows the last newline: nothing
            run.add(lines, PredictionLine.parse(text[n], file + " line " + (n + 1)), file + " line " + (n + 1));
        }
        if (complete < bytes.length) channel.truncate(complete); // a line torn by a crash
        channel.position(complete);
    }

    /** Whether record {@code index} of the evaluation has its prediction here. */
    public synchronized boolean has(int index) { return lines.containsKey(index); }

    /** How many predictions are here. */
    public synchronized int size() { return lines.size(); }

    /** Adds a prediction: from the linking threads, one at a time. */
    public synchronized void append(Prediction p) {
        PredictionLine line = PredictionLine.of(p);
        run.add(lines, line, file.toString());
        try {
            write(line.json());
            long now = System.nanoTime();
            if (now - lastForce >= FORCE_NANOS) {
                channel.force(false);
                lastForce = now;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot append prediction " + p.index() + ": " + e.getMessage(), e);
        }
    }

    private void write(String line) throws IOException {
        AtomicFile.writeFully(channel, ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
    }

    /** The predictions made so far, by record. */
    synchronized SortedMap<Integer, PredictionLine> lines() { return Collections.unmodifiableSortedMap(new TreeMap<>(lines)); }

    /**
     * Once every record of the run has its prediction: writes them, in record order, to {@code predictions} with their
     * {@link EvalSummary} beside it, then removes the journal.
     */
    public synchronized EvalSummary finish(Path predictions) throws IOException {
        if (lines.size() != run.size())
            throw new IllegalStateException(file + " holds " + lines.size() + " of the " + run.size() + " predictions of shard " + run.shard());
        EvalSummary summary = EvalSummary.write(predictions, run, lines.values());
        close();
        Files.deleteIfExists(file);
        return summary;
    }

    /** Closes the journal; one without predictions (a run that failed before its first) is removed, as it holds nothing. */
    @Override
    public synchronized void close() {
        try {
            if (channel.isOpen()) {
                channel.force(false);
                channel.close();
                if (lines.isEmpty()) Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot close: " + e.getMessage(), e);
        }
    }
}
