package gemel.eval;

import gemel.data.MelExample;
import gemel.demos.ProgressMeter;
import gemel.link.LinkQuery;
import gemel.link.LinkResult;
import gemel.link.Linker;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Exact-match accuracy as the reference measures it: each record is linked with its demonstrations,
 * and it is correct when the decoded best beam, stripped of spaces, equals the record's target. A record
 * whose gold is NIL (which the reference drops before evaluating) is correct when the answer is NIL.
 * {@code predictions} are in record order.
 */
public record Evaluation(List<Prediction> predictions, int correct) {
    public Evaluation {
        predictions = List.copyOf(predictions);
    }

    public int evaluated() { return predictions.size(); }

    /** Correct over evaluated, in [0, 1]; 0 for no records. */
    public double accuracy() { return predictions.isEmpty() ? 0 : (double) correct / predictions.size(); }

    /**
     * Links {@code records} (image features {@code images[i]} [dimClip] and demonstration indices
     * {@code demos.get(i)} into {@code pool}) and scores them; progress (done, rate, ETA) goes to
     * {@code progress} when not null.
     */
    public static Evaluation run(Linker linker, List<MelExample> records, float[][] images, List<int[]> demos, DemonstrationPool pool,
                                 int parallelQueries, PrintStream progress) {
        return run(linker, records, IntStream.range(0, records.size()).toArray(), images, demos, pool, parallelQueries,
                new ProgressMeter(progress, "linking", records.size()), p -> {});
    }

    /**
     * {@link #run(Linker, List, float[][], List, DemonstrationPool, int, PrintStream)} of some of an evaluation's records (a
     * shard, or what an interrupted run left), record i being number {@code indices[i]} of the whole evaluation, as its
     * prediction's index says. Each prediction goes to {@code finished} as soon as it is made, from the linking threads.
     */
    public static Evaluation run(Linker linker, List<MelExample> records, int[] indices, float[][] images, List<int[]> demos,
                                 DemonstrationPool pool, int parallelQueries, ProgressMeter progress, Consumer<Prediction> finished) {
        if (images.length != records.size() || demos.size() != records.size() || indices.length != records.size())
            throw new IllegalArgumentException(records.size() + " records but " + images.length + " image features, " + demos.size()
                    + " demonstration lists and " + indices.length + " indices");
        List<LinkQuery> queries = new ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
            MelExample r = records.get(i);
            queries.add(new LinkQuery(r.text(), r.mention(), images[i], pool.demonstrations(demos.get(i))));
        }
        Prediction[] predictions = new Prediction[records.size()];
        linker.linkAll(queries, parallelQueries, progress, (i, result) -> {
            predictions[i] = prediction(indices[i], records.get(i), result);
            finished.accept(predictions[i]);
        });
        int correct = 0;
        for (Prediction p : predictions) if (p.correct()) correct++;
        return new Evaluation(Arrays.asList(predictions), correct);
    }

    /** A record's outcome: a NIL record (kept on request; the reference drops them) is right when the answer is NIL, whatever its name. */
    private static Prediction prediction(int index, MelExample r, LinkResult res) {
        boolean ok = r.isNil() ? res.nil() : res.best().name().equals(r.target());
        return new Prediction(index, r.mention(), r.golden(), r.target(), res.best().text(), ok, res.nil(),
                res.nil() ? null : res.best().entityId(), res.beams());
    }
}
