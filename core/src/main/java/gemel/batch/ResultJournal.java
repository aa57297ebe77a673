package gemel.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.engine.io.AtomicFile;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The results a batch run has made so far, each appended to a file as it is made, so that a run stopped by a crash, a
 * kill or a lost machine resumes where it stopped: the first line names the run ({@link BatchRun}), each other line is
 * a result as the output file holds it. A line torn by a crash (the last, without its newline) is cut off on
 * reopening; any other bad line is an error naming it. A journal closed without results is removed. Lines reach the
 * operating system as they are made (a killed process loses none) and the disk at least every {@value #FORCE_NANOS} ns.
 */
public final class ResultJournal implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FORMAT = "gemel.journal";
    private static final long FORCE_NANOS = 2_000_000_000L;

    private final Path file;
    private final BatchRun run;
    private final FileChannel channel;
    private final SortedMap<Integer, ResultLine> lines = new TreeMap<>();
    private long lastForce = System.nanoTime();

    private ResultJournal(Path file, BatchRun run, FileChannel channel) {
        this.file = file;
        this.run = run;
        this.channel = channel;
    }

    /** The journal of {@code run} at {@code file}: what an earlier run of it left, or a new one. */
    public static ResultJournal open(Path file, BatchRun run) throws IOException {
        boolean resumed = Files.exists(file) && Files.size(file) > 0;
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            throw new IOException("cannot write " + file + ": its folder does not exist", e);
        } catch (FileSystemException e) {
            throw new IOException("cannot write " + file + ": " + (e.getReason() != null ? e.getReason() : e.toString()), e);
        }
        try {
            ResultJournal journal = new ResultJournal(file, run, channel);
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

    /**
     * The journal of a run writing {@code out}: {@code out.partial}, opened as {@link #open} does; when it holds results of
     * an earlier run, says so on {@code log}, counting them as {@code items} (mentions, records).
     */
    public static ResultJournal beside(Path out, BatchRun run, String items, PrintStream log) throws IOException {
        Path file = out.resolveSibling(out.getFileName() + ".partial");
        ResultJournal journal = open(file, run);
        if (journal.size() > 0)
            log.printf(Locale.ROOT, "resuming: %,d of the %,d %s%s already linked (%s)%n", journal.size(), run.size(), items,
                    run.shard().equals(Shard.WHOLE) ? "" : " of shard " + run.shard(), file);
        return journal;
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
            throw new IllegalArgumentException(file + ": not a gemel journal; delete it or choose another --out");
        String differs = run.differenceFrom(BatchRun.fromJson(header, file + " line 1"));
        if (differs != null)
            throw new IllegalArgumentException(file + " holds an interrupted run of other settings (" + differs
                    + "): delete it to start over, or choose another --out");
        for (int n = 1; n < text.length - 1; n++) { // the last piece is what follows the last newline: nothing
            run.add(lines, ResultLine.parse(text[n], file + " line " + (n + 1)), file + " line " + (n + 1));
        }
        if (complete < bytes.length) channel.truncate(complete); // a line torn by a crash
        channel.position(complete);
    }

    /** Whether record {@code index} of the job has its result here. */
    public synchronized boolean has(int index) { return lines.containsKey(index); }

    /** How many results are here. */
    public synchronized int size() { return lines.size(); }

    /** Adds a result: from the threads that make them, one at a time. */
    public synchronized void append(ResultLine line) {
        run.add(lines, line, file.toString());
        try {
            write(line.json());
            long now = System.nanoTime();
            if (now - lastForce >= FORCE_NANOS) {
                channel.force(false);
                lastForce = now;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot append the result of record " + line.index() + ": " + e.getMessage(), e);
        }
    }

    private void write(String line) throws IOException {
        AtomicFile.writeFully(channel, ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Once every record of the run has its result: writes them, in record order, to {@code out} with their
     * {@link RunSummary} beside it, then removes the journal.
     */
    public synchronized RunSummary finish(Path out) throws IOException {
        if (lines.size() != run.size())
            throw new IllegalStateException(file + " holds " + lines.size() + " of the " + run.size() + " results of shard " + run.shard());
        RunSummary summary = RunSummary.write(out, run, lines.values());
        close();
        Files.deleteIfExists(file);
        return summary;
    }

    /** Closes the journal; one without results (a run that failed before its first) is removed, as it holds nothing. */
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
