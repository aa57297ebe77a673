package gemel.engine.kernel;

import java.util.Random;

/**
 * Times causal self-attention over a long prompt (1,536 tokens, the GEMEL prompt length) at the head
 * shapes of OPT-125m (12 x 64) and OPT-1.3b / Llama-3.2-1B (32 x 64), as multiply-add rate, to set
 * beside {@link MatMulTiming}'s: attention must not dominate a prompt. Not a test.
 * Run: java --add-modules jdk.incubator.vector -cp engine/target/classes:engine/target/test-classes
 * gemel.engine.kernel.AttentionTiming [seconds per case, default 1]
 */
public final class AttentionTiming {
    private AttentionTiming() {}

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1;
        int tokens = 1536, headDim = 64;
        Random random = new Random(1);
        for (int heads : new int[] {12, 32}) {
            int width = heads * headDim;
            float[] q = TestTensors.gaussian(random, tokens * width, 1), k = TestTensors.gaussian(random, tokens * width, 1);
            float[] v = TestTensors.gaussian(random, tokens * width, 1), out = new float[tokens * width];
            Attention.selfAttention(q, k, v, tokens, heads, heads, headDim, 0.125f, true, null, out); // warm-up
            long start = System.nanoTime(), best = Long.MAX_VALUE;
            for (int calls = 0; System.nanoTime() - start < seconds * 1e9 || calls < 3; calls++) {
                long t = System.nanoTime();
                Attention.selfAttention(q, k, v, tokens, heads, heads, headDim, 0.125f, true, null, out);
                best = Math.min(best, System.nanoTime() - t);
            }
            // q.k and p.v over the causal half: 2 products x 2 flops x heads x tokens^2 / 2 x headDim
            double flops = 2.0 * heads * tokens * (tokens + 1) / 2.0 * headDim * 2;
            System.out.printf("%d heads x %d, %d tokens: %.1f ms, %.1f GFLOP/s%n", heads, headDim, tokens, best / 1e6, flops / best);
        }
    }
}
