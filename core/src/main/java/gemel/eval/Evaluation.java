package gemel.eval;

import gemel.data.MelExample;
import gemel.demos.ProgressMeter;
import gemel.link.LinkQuery;
import gemel.link.LinkResult;
import gemel.link.Linker;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

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
        if (images.length != records.size() || demos.size() != records.size())
            throw new IllegalArgumentException(records.size() + " records but " + images.length + " image features and " + demos.size()
                    + " demonstration lists");
        List<LinkQuery> queries = new ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
            MelExample r = records.get(i);
            queries.add(new LinkQuery(r.text(), r.mention(), images[i], pool.demonstrations(demos.get(i))));
        }
        List<LinkResult> results = linker.linkAll(queries, parallelQueries, new ProgressMeter(progress, "linking", records.size()));
        List<Prediction> predictions = new ArrayList<>(records.size());
        int correct = 0;
        for (int i = 0; i < records.size(); i++) {
            MelExample r = records.get(i);
            LinkResult res = results.get(i);
            // a NIL record (kept on request; the reference drops them) is right when the answer is NIL, whatever its name
            boolean ok = r.isNil() ? res.nil() : res.best().name().equals(r.target());
            if (ok) correct++;
            predictions.add(new Prediction(i, r.mention(), r.golden(), r.target(), res.best().text(), ok, res.nil(),
                    res.nil() ? null : res.best().entityId(), res.beams()));
        }
        return new Evaluation(predictions, correct);
    }
}
