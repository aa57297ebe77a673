package gemel.engine.grad.exact;

import gemel.engine.io.TensorView;
import java.util.stream.IntStream;

/**
 * Mean cross entropy of the LM head's logits over the target rows, with its gradient
 * {@code dlogits = (softmax - onehot) / n} pushed back through the head: {@code dh = dlogits · W}.
 * The head ([vocab, width], the largest matrix of a model) is read one row at a time in its stored
 * dtype, never converted whole.
 */
final class CrossEntropy {
    private CrossEntropy() {
    }

    record Result(double loss, double[] dHidden) {
    }

    /** {@code hidden} [n, width] are the final hidden states of the rows that predict {@code targets[n]}. */
    static Result of(double[] hidden, int[] targets, TensorView head) {
        int n = targets.length, vocab = head.dim(0), width = head.dim(1);
        for (int t : targets)
            if (t < 0 || t >= vocab) throw new IllegalArgumentException("label " + t + " is outside the vocabulary of " + vocab);
        double[] logits = logits(hidden, n, head); // [vocab, n]: column per target row
        double loss = 0;
        double[] dLogits = new double[vocab * n];  // [vocab, n]
        for (int r = 0; r < n; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < vocab; c++) max = Math.max(max, logits[c * n + r]);
            double sum = 0;
            for (int c = 0; c < vocab; c++) sum += Math.exp(logits[c * n + r] - max);
            double logSum = max + Math.log(sum);
            loss += logSum - logits[targets[r] * n + r];
            for (int c = 0; c < vocab; c++) dLogits[c * n + r] = Math.exp(logits[c * n + r] - logSum) / n;
            dLogits[targets[r] * n + r] -= 1.0 / n;
        }
        // dh[r] = sum_c dLogits[c, r] * W[c]: each task sums a slice of the vocabulary, then the slices are added
        int slices = Math.max(1, Math.min(64, vocab / 512));
        double[][] partial = new double[slices][];
        IntStream.range(0, slices).parallel().forEach(s -> {
            double[] acc = new double[n * width];
            float[] row = new float[width];
            for (int c = s * vocab / slices; c < (s + 1) * vocab / slices; c++) {
                head.copyTo((long) c * width, row, 0, width);
                for (int r = 0; r < n; r++) {
                    double g = dLogits[c * n + r];
                    for (int i = 0; i < width; i++) acc[r * width + i] += g * row[i];
                }
            }
            partial[s] = acc;
        });
        double[] dHidden = new double[n * width];
        for (double[] p : partial) for (int i = 0; i < dHidden.length; i++) dHidden[i] += p[i];
        return new Result(loss / n, dHidden);
    }

    /** [vocab, n] logits of {@code n} hidden rows, reading the head row by row. */
    static double[] logits(double[] hidden, int n, TensorView head) {
        int vocab = head.dim(0), width = head.dim(1);
        double[] out = new double[vocab * n];
        IntStream range = IntStream.range(0, vocab);
        (vocab * (long) n * width > 1 << 16 ? range.parallel() : range).forEach(c -> {
            float[] row = new float[width];
            head.copyTo((long) c * width, row, 0, width);
            for (int r = 0; r < n; r++) {
                double s = 0;
                for (int i = 0; i < width; i++) s += hidden[r * width + i] * row[i];
                out[c * n + r] = s;
            }
        });
        return out;
    }
}
