package gemel.engine.generate;

import gemel.engine.model.CausalLM;
import gemel.engine.model.DecoderInput;
import gemel.engine.model.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Beam search as Hugging Face transformers 4.30 runs it ({@code generate} with {@code num_beams > 1},
 * {@code do_sample=False}, {@code early_stopping=False}) for a prompt given as embeddings: the
 * sequence starts from a start token that is never fed to the model, each step scores the log-softmax
 * over the whole vocabulary plus the beam's running sum, tokens outside {@link AllowedTokens} get minus
 * infinity, the best {@code 2 * numBeams} candidates are ranked, an end-token candidate finishes a
 * hypothesis only when it ranks among the first {@code numBeams}, and the search stops when the best
 * candidate, divided by the current length to the power of the length penalty, cannot beat the worst
 * kept hypothesis, or at the token limit. Arithmetic follows the reference: running sums in fp32,
 * hypothesis scores in double.
 *
 * <p>Unlike the reference, the prompt is run once and its cache shared by all beams. Candidates
 * with equal scores rank by beam, then token id (the reference leaves that order to
 * {@code torch.topk}).
 */
public final class BeamSearch {
    private static final float UNREACHABLE = -1e9f; // the reference's start score of beams 1.. so that step one extends beam 0 only

    private final int numBeams;
    private final int maxNewTokens;
    private final double lengthPenalty;

    public BeamSearch(int numBeams, int maxNewTokens, double lengthPenalty) {
        if (numBeams < 1) throw new IllegalArgumentException("numBeams must be >= 1, got " + numBeams);
        if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
        this.numBeams = numBeams;
        this.maxNewTokens = maxNewTokens;
        this.lengthPenalty = lengthPenalty;
    }

    public int numBeams() { return numBeams; }

    /**
     * Generates after {@code prompt} [promptLength, inputWidth] and returns the best {@code keep}
     * hypotheses, best first. {@code allowed} null means no constraint.
     */
    public List<Hypothesis> run(CausalLM model, float[] prompt, int promptLength, int startToken, int endToken,
                                AllowedTokens allowed, int keep) {
        int vocab = model.shape().vocabSize(), width = model.shape().inputWidth();
        if (keep < 1 || keep > numBeams) throw new IllegalArgumentException("keep must be in 1.." + numBeams + ", got " + keep);
        if (promptLength < 1 || prompt.length != promptLength * width)
            throw new IllegalArgumentException("prompt holds " + prompt.length + " floats, expected promptLength " + promptLength + " x inputWidth " + width);
        if (2 * numBeams > (long) numBeams * vocab) throw new IllegalArgumentException("vocabulary of " + vocab + " is too small for beam search");

        KvCache promptCache = model.newCache(1, promptLength + maxNewTokens);
        float[] logits = model.forward(new DecoderInput(prompt, 1, promptLength, null, null), promptCache, new int[] {promptLength - 1});
        KvCache cache = promptCache.fork(numBeams);

        int maxLength = 1 + maxNewTokens;
        int[][] sequences = new int[numBeams][maxLength]; // [beam][start token + generated]
        float[] beamScores = new float[numBeams];          // [beam] running sums of log-probabilities
        for (int b = 0; b < numBeams; b++) {
            sequences[b][0] = startToken;
            if (b > 0) beamScores[b] = UNREACHABLE;
        }
        Finished finished = new Finished(numBeams, lengthPenalty);
        float[] scores = new float[numBeams * vocab];     // [beam, vocab] candidate scores of this step
        Candidates top = new Candidates(2 * numBeams);
        int[] nextToken = new int[numBeams], source = new int[numBeams];
        float[] nextScore = new float[numBeams];
        float[] embeds = new float[numBeams * width];
        int length = 1;
        boolean done = false;
        while (true) {
            boolean shared = length == 1; // the first step reads the single prompt row for every beam
            for (int b = 0; b < numBeams; b++)
                scoreCandidates(logits, shared ? 0 : b, vocab, allowed == null ? null : allowed.after(sequences[b], length),
                        beamScores[b], scores, b * vocab);
            top.select(scores);

            int filled = 0;
            for (int rank = 0; rank < top.count && filled < numBeams; rank++) {
                int token = top.index[rank] % vocab, beam = top.index[rank] / vocab;
                if (token == endToken) {
                    if (rank < numBeams) finished.add(Arrays.copyOf(sequences[beam], length), top.score[rank], true);
                } else {
                    nextToken[filled] = token;
                    source[filled] = beam;
                    nextScore[filled++] = top.score[rank];
                }
            }
            done = finished.isDone(top.score[0], length);

            int[][] extended = new int[numBeams][];
            for (int b = 0; b < numBeams; b++) {
                extended[b] = sequences[source[b]].clone();
                extended[b][length] = nextToken[b];
            }
            sequences = extended;
            System.arraycopy(nextScore, 0, beamScores, 0, numBeams);
            length++;
            if (done || length >= maxLength) break;

            cache.reorder(source);
            for (int b = 0; b < numBeams; b++) model.embed(nextToken[b], embeds, b * width);
            logits = model.forward(new DecoderInput(embeds, numBeams, 1, null, null), cache, null);
        }
        if (!done)
            for (int b = 0; b < numBeams; b++) finished.add(Arrays.copyOf(sequences[b], length), beamScores[b], false);
        return finished.best(keep);
    }

    /** out[offset + v] = log_softmax(logits row)[v] (minus infinity unless allowed) + running sum. */
    private static void scoreCandidates(float[] logits, int row, int vocab, int[] allowedTokens, float running, float[] out, int offset) {
        int base = row * vocab;
        float max = Float.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) max = Math.max(max, logits[base + v]);
        double sum = 0;
        for (int v = 0; v < vocab; v++) sum += Math.exp(logits[base + v] - max);
        float shift = max + (float) Math.log(sum);
        if (allowedTokens == null) {
            for (int v = 0; v < vocab; v++) out[offset + v] = (logits[base + v] - shift) + running;
            return;
        }
        Arrays.fill(out, offset, offset + vocab, Float.NEGATIVE_INFINITY);
        for (int v : allowedTokens) {
            if (v < 0 || v >= vocab) throw new IllegalArgumentException("allowed token " + v + " is outside the vocabulary of " + vocab);
            out[offset + v] = (logits[base + v] - shift) + running;
        }
    }

    /** The best {@code capacity} of a score array, best first; equal scores keep the lower index first. */
    private static final class Candidates {
        final int[] index;
        final float[] score;
        int count;

        Candidates(int capacity) {
            index = new int[capacity];
            score = new float[capacity];
        }

        void select(float[] scores) {
            count = 0;
            int capacity = index.length;
            for (int i = 0; i < scores.length; i++) {
                float s = scores[i];
                if (count == capacity && !(s > score[count - 1])) continue;
                int at = count < capacity ? count++ : capacity - 1;
                while (at > 0 && s > score[at - 1]) {
                    score[at] = score[at - 1];
                    index[at] = index[at - 1];
                    at--;
                }
                score[at] = s;
                index[at] = i;
            }
        }
    }

    /** The reference's {@code BeamHypotheses}: the best {@code numBeams} finished sequences. */
    private static final class Finished {
        private record Entry(double score, int[] sequence, boolean ended) {}

        private final int numBeams;
        private final double lengthPenalty;
        private final List<Entry> entries = new ArrayList<>();
        private double worst = 1e9;

        Finished(int numBeams, double lengthPenalty) {
            this.numBeams = numBeams;
            this.lengthPenalty = lengthPenalty;
        }

        /** {@code sequence} holds the start token and the tokens before the end token. */
        void add(int[] sequence, double sumLogprobs, boolean ended) {
            double score = sumLogprobs / Math.pow(sequence.length, lengthPenalty);
            if (entries.size() >= numBeams && !(score > worst)) return;
            entries.add(new Entry(score, sequence, ended));
            if (entries.size() > numBeams) {
                int[] order = ascending();
                double secondWorst = entries.get(order[1]).score;
                entries.remove(order[0]);
                worst = secondWorst;
            } else {
                worst = Math.min(score, worst);
            }
        }

        /** Indices of the entries by score, then by position (Python's sort of (score, index) pairs). */
        private int[] ascending() {
            Integer[] idx = new Integer[entries.size()];
            for (int i = 0; i < idx.length; i++) idx[i] = i;
            Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> entries.get(i).score).thenComparingInt(i -> i));
            return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
        }

        boolean isDone(double bestSumLogprobs, int length) {
            if (entries.size() < numBeams) return false;
            return worst >= bestSumLogprobs / Math.pow(length, lengthPenalty);
        }

        /** The best {@code keep}, best first; among equal scores the later added first (the reference pops a stable sort). */
        List<Hypothesis> best(int keep) {
            int[] order = ascending();
            List<Hypothesis> out = new ArrayList<>(keep);
            for (int k = order.length - 1; k >= 0 && out.size() < keep; k--) {
                Entry e = entries.get(order[k]);
                out.add(new Hypothesis(Arrays.copyOfRange(e.sequence, 1, e.sequence.length), e.score, e.ended));
            }
            return out;
        }
    }
}
