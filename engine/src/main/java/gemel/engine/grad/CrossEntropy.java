package gemel.engine.grad;

/**
 * Mean cross entropy of the LM head's logits over the target rows, with its gradient
 * {@code dlogits = (softmax - onehot) / n} pushed back through the head: {@code dh = dlogits · W}.
 */
final class CrossEntropy {
    private CrossEntropy() {
    }

    record Result(double loss, double[] dHidden) {
    }

    /**
     * {@code hidden} [n, width] are the final hidden states of the rows that predict {@code targets[n]};
     * {@code head} [vocab, width] is the LM head.
     */
    static Result of(double[] hidden, int[] targets, double[] head, int vocab, int width) {
        int n = targets.length;
        double[] logits = DenseMath.forward(hidden, n, width, head, vocab, null);
        double loss = 0;
        double[] dLogits = new double[n * vocab];
        for (int r = 0; r < n; r++) {
            int o = r * vocab;
            if (targets[r] < 0 || targets[r] >= vocab) throw new IllegalArgumentException("label " + targets[r] + " is outside the vocabulary of " + vocab);
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < vocab; c++) max = Math.max(max, logits[o + c]);
            double sum = 0;
            for (int c = 0; c < vocab; c++) sum += Math.exp(logits[o + c] - max);
            double logSum = max + Math.log(sum);
            loss += logSum - logits[o + targets[r]];
            for (int c = 0; c < vocab; c++) dLogits[o + c] = Math.exp(logits[o + c] - logSum) / n;
            dLogits[o + targets[r]] -= 1.0 / n;
        }
        double[] dHidden = new double[n * width];
        DenseMath.backward(dLogits, n, vocab, head, width, dHidden);
        return new Result(loss / n, dHidden);
    }
}
