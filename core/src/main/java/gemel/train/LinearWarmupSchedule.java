package gemel.train;

/**
 * Linear warmup then linear decay to zero, counted in optimizer steps, with the values of
 * transformers' {@code get_linear_schedule_with_warmup}: optimizer step {@code s} (0-based) uses
 * {@code base * s / warmup} while {@code s < warmup}, then {@code base * (total - s) / (total - warmup)}.
 * So the very first update has learning rate 0, as in the reference.
 * {@code warmup = floor(warmupFraction * total)}.
 */
public record LinearWarmupSchedule(double baseRate, long totalSteps, long warmupSteps) {

    public LinearWarmupSchedule {
        if (totalSteps <= 0) throw new IllegalArgumentException("schedule needs at least one optimizer step, got " + totalSteps);
        if (warmupSteps < 0 || warmupSteps > totalSteps)
            throw new IllegalArgumentException("warmup of " + warmupSteps + " steps does not fit in " + totalSteps);
    }

    public static LinearWarmupSchedule of(double baseRate, long totalSteps, double warmupFraction) {
        return new LinearWarmupSchedule(baseRate, totalSteps, (long) Math.floor(warmupFraction * totalSteps));
    }

    /** The learning rate of optimizer step {@code step} (0-based). */
    public double rate(long step) {
        if (step < warmupSteps) return baseRate * step / Math.max(1, warmupSteps);
        return baseRate * Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    }
}
