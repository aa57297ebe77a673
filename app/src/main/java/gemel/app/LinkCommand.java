package gemel.app;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gemel.batch.BatchRun;
import gemel.batch.ResultJournal;
import gemel.batch.ResultLine;
import gemel.batch.RunSummary;
import gemel.batch.Shard;
import gemel.demos.ProgressMeter;
import gemel.engine.vision.ImageDecoder;
import gemel.eval.PredictionLines;
import gemel.link.Demonstration;
import gemel.link.LinkQuery;
import gemel.link.LinkResult;
import gemel.link.LinkedEntity;
import gemel.link.Linker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gemel link}: one mention, or a file of them, to knowledge-base entities. */
@Command(name = "link", mixinStandardHelpOptions = true,
        description = "Link a mention (--text, --mention, --image) or every line of a JSON-lines file (--input) to a knowledge-base entity.")
final class LinkCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    LinkerOptions options;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @ArgGroup(exclusive = false)
        One one;

        @Option(names = "--input", description = "JSON lines {text, mention, img_name | img_url | image} to link, one result per line")
        Path file;
    }

    static final class One {
        @Option(names = "--text", required = true, description = "the text the mention is in")
        String text;

        @Option(names = "--mention", required = true, description = "the mention to link")
        String mention;

        @Option(names = "--image", description = "the image: key of its feature in --features (file name or URL), or its file with --clip")
        String image;
    }

    @Option(names = "--json", description = "print one JSON object per mention instead of text")
    boolean json;

    @Option(names = "--out", description = "with --input: write one JSON line per mention of the file, in its order ({index, mention, prediction, "
            + "nil, entity_id, beams}), with a summary beside it as OUT.summary.json; until the run ends, its results so far are in "
            + "OUT.partial, from which the same command resumes")
    Path out;

    @Option(names = "--shard", paramLabel = "I/N", description = "with --input and --out: link only mention k of the file when k %% N == I, "
            + "e.g. one shard per machine; 'gemel merge' joins the shards' --out files into what one run writes (default: all)")
    String shard;

    @Spec
    CommandSpec spec;

    // options that change how a run goes, not its results: a run may resume, and shards merge, across them
    static final Set<String> NOT_DECIDING = Set.of("--out", "--parallel", "--shard", "--json");
    private static final int FILE_CHUNK = 1024; // mentions of an --out run whose images and demonstrations are held at once

    @Option(names = "--clip", description = "CLIP folder (config.json, preprocessor_config.json, weights): the mentions' images are then "
            + "image files, encoded here (the vision tower's pooled output); without it they are keys of --features")
    Path clip;

    /** A mention to link as read: {@code where} names it in errors. */
    private record Mention(String text, String mention, String imageKey, String where) {}

    @Override
    public Integer call() { return CommandErrors.guarded("link", this::link); }

    private void link() throws IOException {
        if (out != null && input.file == null) throw new IllegalArgumentException("--out goes with --input (a file of mentions)");
        if (shard != null && out == null) throw new IllegalArgumentException("--shard goes with --input and --out");
        List<Mention> mentions = input.file != null ? read(input.file)
                : List.of(new Mention(input.one.text, input.one.mention, input.one.image, "--image"));
        try (LinkSession session = LinkSession.open(options, clip, ImageDecoder.pillowLimits(), options.topK, System.err)) {
            if (out != null) {
                linkToFile(session, mentions);
                return;
            }
            List<LinkResult> results = link(session, mentions, mentions.size() > 1 ? new ProgressMeter(System.err, "linking", mentions.size()) : null,
                    (i, r) -> {});
            for (int i = 0; i < results.size(); i++) print(mentions.get(i), results.get(i));
        }
    }

    /** Links the mentions of this shard not linked yet by an earlier run, each result journaled as it comes, then writes --out. */
    private void linkToFile(LinkSession session, List<Mention> mentions) throws IOException {
        Shard part = shard == null ? Shard.WHOLE : Shard.parse(shard);
        BatchRun run = new BatchRun(RunSettings.of(spec, NOT_DECIDING), mentions.size(), part);
        try (ResultJournal journal = ResultJournal.beside(out, run, "mentions", System.err)) {
            int[] todo = IntStream.range(0, mentions.size()).filter(k -> part.holds(k) && !journal.has(k)).toArray();
            ProgressMeter progress = new ProgressMeter(System.err, "linking", todo.length);
            // a chunk at a time: the image features and demonstrations of a million mentions would not fit in memory
            for (int c0 = 0; c0 < todo.length; c0 += FILE_CHUNK) {
                int[] chunk = Arrays.copyOfRange(todo, c0, Math.min(todo.length, c0 + FILE_CHUNK));
                link(session, Arrays.stream(chunk).mapToObj(mentions::get).toList(), progress, (i, r) -> {
                    ObjectNode line = JSON.createObjectNode().put("index", chunk[i]).setAll(json(mentions.get(chunk[i]), r));
                    try {
                        journal.append(new ResultLine(chunk[i], JSON.writeValueAsString(line), null));
                    } catch (JsonProcessingException e) {
                        throw new IllegalStateException("the result of mention " + chunk[i] + " cannot be written as JSON", e);
                    }
                });
            }
            RunSummary summary = journal.finish(out);
            System.out.printf(Locale.ROOT, "linked %,d mentions%s; wrote %s and %s%n", summary.results(),
                    part.equals(Shard.WHOLE) ? "" : " (shard " + part + " of " + mentions.size() + ": 'gemel merge' joins the shards)",
                    out, RunSummary.fileOf(out).getFileName());
        }
    }

    /** Links {@code mentions}, telling {@code finished} of each result as it comes and {@code progress} (may be null) of each done. */
    private List<LinkResult> link(LinkSession session, List<Mention> mentions, ProgressMeter progress, Linker.Finished finished) throws IOException {
        List<float[]> images = new ArrayList<>(mentions.size());
        for (Mention m : mentions) images.add(image(session, m));
        List<List<Demonstration>> demos = session.demonstrations(mentions.stream().map(Mention::mention).toList());
        List<LinkQuery> queries = new ArrayList<>(mentions.size());
        for (int i = 0; i < mentions.size(); i++)
            queries.add(new LinkQuery(mentions.get(i).text(), mentions.get(i).mention(), images.get(i), demos.get(i)));
        return session.linker().linkAll(queries, options.parallel, progress, finished);
    }

    /** The image feature of a mention: its file encoded with --clip, else its key in --features. */
    private float[] image(LinkSession session, Mention m) throws IOException {
        if (session.ignoresImages()) return session.noImage();
        if (m.imageKey() == null)
            throw new IllegalArgumentException(m.where() + ": no image " + (session.hasClip() ? "file" : "key") + " (give --image, or --no-image)");
        return session.hasClip() ? session.imageFromFile(Path.of(m.imageKey()), m.where()) : session.imageByKey(m.imageKey(), m.where());
    }

    /** A mention's result as --json prints it. */
    private static ObjectNode json(Mention m, LinkResult r) {
        ObjectNode node = JSON.createObjectNode().put("mention", m.mention()).put("prediction", r.best().text()).put("nil", r.nil())
                .put("entity_id", r.nil() ? null : r.best().entityId());
        PredictionLines.putBeams(node, r.beams());
        return node;
    }

    private void print(Mention m, LinkResult r) throws IOException {
        if (json) {
            System.out.println(JSON.writeValueAsString(json(m, r)));
            return;
        }
        LinkedEntity best = r.best();
        System.out.printf(Locale.ROOT, "%s -> %s%n", m.mention(), r.nil() ? "NIL (best: " + best.name() + ", " + score(best) + ")"
                : best.name() + " [" + String.join(", ", best.entityIds()) + "] " + score(best));
        for (int k = 1; k < r.beams().size(); k++) {
            LinkedEntity b = r.beams().get(k);
            System.out.printf(Locale.ROOT, "  %d. %s [%s] %s%n", k + 1, b.name(), String.join(", ", b.entityIds()), score(b));
        }
    }

    private static String score(LinkedEntity e) { return String.format(Locale.ROOT, "score %.4f", e.score()); }

    /** Mentions from JSON lines; a bad line is an error naming the file and line. */
    private static List<Mention> read(Path file) throws IOException {
        List<Mention> out = new ArrayList<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNo++;
            if (line.isBlank()) continue;
            String where = file + " line " + lineNo;
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (IOException e) {
                throw new IllegalArgumentException(where + ": malformed JSON", e);
            }
            if (node == null || !node.isObject()) throw new IllegalArgumentException(where + ": not a JSON object");
            String image = null;
            for (String field : new String[] {"img_name", "img_url", "image"}) if (node.hasNonNull(field)) image = node.get(field).asText();
            out.add(new Mention(text(node, "text", where), text(node, "mention", where), image, where));
        }
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": no mentions to link");
        return out;
    }

    private static String text(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) throw new IllegalArgumentException(where + ": missing text field '" + field + "'");
        return v.asText();
    }
}
