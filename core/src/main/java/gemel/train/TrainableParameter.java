package gemel.train;

/**
 * One trained tensor, flattened: {@code values} is updated in place by the optimizer.
 * {@code decay} says whether weight decay applies (the reference exempts the bias).
 */
public record TrainableParameter(String name, float[] values, boolean decay) {
    public TrainableParameter {
        if (values.length == 0) throw new IllegalArgumentException("parameter " + name + " is empty");
    }
}
