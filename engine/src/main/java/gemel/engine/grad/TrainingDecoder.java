package gemel.engine.grad;

import gemel.engine.model.DecoderParts;
import gemel.engine.model.Linear;
import java.util.List;

/**
 * A decoder (OPT or Llama family) run in fp32 for training: the forward keeps what the backward
 * needs, the backward gives d loss / d inputs_embeds. With {@code recompute} only each block's input and
 * its norms' inputs are kept and the rest of what the block's backward reads is computed again just before it,
 * so the memory held is one block's activations plus two (pre-norm) or three [rows, hidden] arrays per block.
 * A block recomputes only its norms, q, k, v and the MLP's first products: with its whole
 * forward again, a step (1,536 tokens, after the first) took 1.5 times as long as with every activation kept for
 * OPT-125m and 1.6 for OPT-1.3b; so, 1.3-1.4 and 1.2. A post-norm block of OPT-350m's shape keeps three arrays
 * instead of one for it (activations 0.51 GB against 0.21 at 1,536 tokens); its steps took 20.9 s against 26.3-28.3.
 */
final class TrainingDecoder {
    private final DecoderParts parts;
    private final List<TrainingBlock> blocks;
    final int inputWidth, hidden, vocab;

    /** What one pass returns: mean loss over {@code targets} label tokens and d loss / d embeds [rows, inputWidth] (null without backward). */
    record Pass(double loss, int targets, float[] dEmbeds) {}

    TrainingDecoder(DecoderParts parts) {
        this.parts = parts;
        this.blocks = parts.blocks().stream().map(b -> new TrainingBlock(parts, b)).toList();
        this.inputWidth = parts.shape().inputWidth();
        this.hidden = parts.shape().hiddenSize();
        this.vocab = parts.shape().vocabSize();
    }

    /**
     * Loss (and with {@code backward} its gradient to the embeddings) of {@code embeds} [rows, inputWidth]
     * whose labels [rows] are -100 except on target tokens; position t is scored by the logits of t - 1.
     */
    Pass run(float[] embeds, Batch batch, int[] labels, boolean backward, boolean recompute) {
        int rows = batch.rows();
        Targets scored = Targets.of(batch, labels);
        int n = scored.count();
        int[] sources = scored.sources(), targets = scored.labels();
        for (int t : targets)
            if (t < 0 || t >= vocab) throw new IllegalArgumentException("label " + t + " is outside the vocabulary of " + vocab);

        float[] x = input(embeds, batch);
        // with recompute, each block's input and its norms' inputs; without, all it saved
        float[][] blockInputs = new float[blocks.size()][], norm1Ins = new float[blocks.size()][], norm2Ins = new float[blocks.size()][];
        TrainingBlock.Saved[] saved = new TrainingBlock.Saved[blocks.size()];
        for (int l = 0; l < blocks.size(); l++) {
            TrainingBlock.Forward f = blocks.get(l).forward(x, batch);
            if (backward && recompute) {
                blockInputs[l] = x;
                norm1Ins[l] = f.saved().norm1In();
                norm2Ins[l] = f.saved().norm2In();
            } else if (backward) {
                saved[l] = f.saved();
            }
            x = f.output();
        }
        float[] picked = new float[n * hidden];
        for (int i = 0; i < n; i++) System.arraycopy(x, sources[i] * hidden, picked, i * hidden, hidden);
        float[] h = parts.finalNorm() == null ? picked : TrainingBlock.norm(parts.finalNorm(), picked, n);
        float[] out = parts.projectOut() == null ? h : TrainingBlock.apply(parts.projectOut(), h, n);
        float[] dLogits = new float[n * vocab];
        double loss = crossEntropy(TrainingBlock.apply(parts.head(), out, n), targets, dLogits);
        if (!backward) return new Pass(loss, n, null);

        float[] dOut = TrainingBlock.inputGradient(parts.head(), dLogits, n);
        float[] dh = parts.projectOut() == null ? dOut : TrainingBlock.inputGradient(parts.projectOut(), dOut, n);
        float[] dPicked = parts.finalNorm() == null ? dh : TrainingBlock.normBackward(parts.finalNorm(), picked, dh, n);
        float[] dx = new float[rows * hidden];
        for (int i = 0; i < n; i++) System.arraycopy(dPicked, i * hidden, dx, sources[i] * hidden, hidden);
        for (int l = blocks.size() - 1; l >= 0; l--) {
            TrainingBlock.Saved s = recompute ? blocks.get(l).savedFrom(blockInputs[l], norm1Ins[l], norm2Ins[l], batch) : saved[l];
            saved[l] = null;
            blockInputs[l] = norm1Ins[l] = norm2Ins[l] = null;
            dx = blocks.get(l).backward(s, dx, batch);
        }
        Linear projectIn = parts.projectIn();
        return new Pass(loss, n, projectIn == null ? dx : TrainingBlock.inputGradient(projectIn, dx, rows));
    }

    /** Final-layer logits [rows, vocab] of every row (for checks against other implementations). */
    float[] logits(float[] embeds, Batch batch) {
        int rows = batch.rows();
        float[] x = input(embeds, batch);
        for (TrainingBlock block : blocks) x = block.forward(x, batch).output();
        float[] h = parts.finalNorm() == null ? x : TrainingBlock.norm(parts.finalNorm(), x, rows);
        return TrainingBlock.apply(parts.head(), parts.projectOut() == null ? h : TrainingBlock.apply(parts.projectOut(), h, rows), rows);
    }

    /**
     * Floats the activations of one pass hold at the peak: every block's saved tensors, or with
     * recompute each block's input and norm inputs (two or three [rows, hidden] arrays) plus one block's saved tensors.
     */
    long activationFloats(Batch batch, boolean recompute) {
        long perBlock = blocks.isEmpty() ? 0 : blocks.getFirst().savedFloats(batch.rows());
        long kept = blocks.stream().mapToLong(TrainingBlock::recomputeInputs).sum() * batch.rows() * hidden;
        return recompute ? kept + perBlock : blocks.size() * perBlock;
    }

    /**
     * Mean cross entropy of logits [n, vocab] against targets [n] (softmax in double); writes its
     * gradient {@code (softmax - onehot) / n} into dLogits [n, vocab].
     */
    private double crossEntropy(float[] logits, int[] targets, float[] dLogits) {
        int n = targets.length;
        double loss = 0;
        for (int r = 0; r < n; r++) {
            int o = r * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < vocab; c++) max = Math.max(max, logits[o + c]);
            double sum = 0;
            for (int c = 0; c < vocab; c++) sum += Math.exp(logits[o + c] - max);
            double logSum = max + Math.log(sum);
            loss += logSum - logits[o + targets[r]];
            for (int c = 0; c < vocab; c++) dLogits[o + c] = (float) (Math.exp(logits[o + c] - logSum) / n);
            dLogits[o + targets[r]] -= (float) (1.0 / n);
        }
        return loss / n;
    }

    /** Embeddings [rows, inputWidth] -> the first block's input [rows, hidden] (project_in, learned positions). */
    private float[] input(float[] embeds, Batch batch) {
        int rows = batch.rows(), maxPositions = parts.shape().maxPositions();
        if (embeds.length != rows * inputWidth)
            throw new IllegalArgumentException("inputs_embeds hold " + embeds.length + " values, expected " + rows + " rows x " + inputWidth);
        for (int r = 0; r < rows; r++)
            if (batch.mask()[r] != 0 && batch.positions()[r] >= maxPositions)
                throw new IllegalArgumentException("position " + batch.positions()[r] + " is beyond the model's max_position_embeddings " + maxPositions);
        float[] x = parts.projectIn() == null ? embeds.clone() : TrainingBlock.apply(parts.projectIn(), embeds, rows);
        if (parts.positionTable() != null) {
            float[] row = new float[hidden];
            for (int r = 0; r < rows; r++) {
                // padding reads the row just below the offset, as HF's cumsum(mask) * mask - 1 does
                int index = batch.mask()[r] != 0 ? batch.positions()[r] + parts.positionOffset() : parts.positionOffset() - 1;
                parts.positionTable().copyTo((long) index * hidden, row, 0, hidden);
                for (int i = 0; i < hidden; i++) x[r * hidden + i] += row[i];
            }
        }
        return x;
    }
}
