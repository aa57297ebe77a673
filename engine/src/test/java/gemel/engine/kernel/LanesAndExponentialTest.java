package gemel.engine.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The order-fixed lane sum and the exponential give the bits of their scalar twins, compiled or not. */
class LanesAndExponentialTest {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    @Test
    void laneSumIsTheFixedTreeBitForBit() {
        Random random = new Random(5);
        float[] lanes = new float[F.length()];
        // many rounds: the first ones run interpreted, the later ones compiled
        for (int round = 0; round < 20000; round++) {
            for (int i = 0; i < lanes.length; i++) lanes[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3));
            float fast = Lanes.sum(FloatVector.fromArray(F, lanes, 0));
            assertEquals(Float.floatToRawIntBits(Lanes.sumScalar(lanes.clone())), Float.floatToRawIntBits(fast), "round " + round);
        }
        double exact = 0;
        for (int i = 0; i < lanes.length; i++) exact += lanes[i];
        assertEquals(exact, Lanes.sumScalar(lanes), 1e-5 * Math.abs(exact) + 1e-6, "the tree is a sum");
    }

    @Test
    void doubleLaneSumIsTheFixedTreeBitForBit() {
        VectorSpecies<Double> d = DoubleVector.SPECIES_PREFERRED;
        Random random = new Random(7);
        double[] lanes = new double[d.length()];
        for (int round = 0; round < 20000; round++) {
            for (int i = 0; i < lanes.length; i++) lanes[i] = random.nextGaussian() * Math.pow(10, random.nextInt(9) - 4);
            double fast = Lanes.sum(DoubleVector.fromArray(d, lanes, 0));
            assertEquals(Double.doubleToRawLongBits(Lanes.sumScalar(lanes.clone())), Double.doubleToRawLongBits(fast), "round " + round);
        }
        double exact = 0;
        for (double v : lanes) exact += v;
        assertEquals(exact, Lanes.sumScalar(lanes), 1e-12 * Math.abs(exact) + 1e-15, "the tree is a sum");
    }

    @Test
    void exponentialMatchesItsTwinBitForBitAndMathExpWithinTwoUlps() {
        Random random = new Random(6);
        float[] x = new float[F.length()], y = new float[F.length()];
        for (int round = 0; round < 20000; round++) {
            for (int i = 0; i < x.length; i++) x[i] = (float) (random.nextDouble() * 200 - 100);
            Exponential.exp(FloatVector.fromArray(F, x, 0)).intoArray(y, 0);
            for (int i = 0; i < x.length; i++) {
                float twin = Exponential.expScalar(x[i]);
                assertEquals(Float.floatToRawIntBits(twin), Float.floatToRawIntBits(y[i]), "exp(" + x[i] + ") round " + round);
                double exact = Math.exp(x[i]);
                if (x[i] > 88.7228394) assertEquals(Float.POSITIVE_INFINITY, twin, "exp(" + x[i] + ")");
                else if (x[i] < -87.3365) assertEquals(0f, twin, "exp(" + x[i] + ")");
                else assertTrue(Math.abs(twin - exact) <= 2 * Math.ulp((float) exact), "exp(" + x[i] + ") = " + twin + ", exactly " + exact);
            }
        }
    }

    @Test
    void nonPositiveExponentialIsTheExponentialBitForBit() {
        Random random = new Random(8);
        float[] x = new float[F.length()], general = new float[F.length()], nonPositive = new float[F.length()];
        float[] edges = {0f, -0f, -Float.MIN_VALUE, -Float.MIN_NORMAL, -1e-30f, -0.34657359f, -0.34657362f, -1f, -86.9f, -87.33653f,
            -87.33654022216797f, -87.336544f, -87.4f, -100f, -Float.MAX_VALUE, Float.NEGATIVE_INFINITY, Float.NaN};
        for (int round = 0; round < 40000; round++) {
            for (int i = 0; i < x.length; i++) {
                // random bit patterns of non-positive floats, small and large magnitudes alike; first the edges
                x[i] = round < edges.length ? edges[(round + i) % edges.length] : -Float.intBitsToFloat(random.nextInt(0x7f800001));
            }
            Exponential.exp(FloatVector.fromArray(F, x, 0)).intoArray(general, 0);
            Exponential.expNonPositive(FloatVector.fromArray(F, x, 0)).intoArray(nonPositive, 0);
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToRawIntBits(general[i]), Float.floatToRawIntBits(nonPositive[i]), "exp(" + x[i] + ") round " + round);
            }
        }
    }

    @Test
    void exponentialEdgeCases() {
        float[] x = {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 0f, -0f, 1f, -1f, 88.72283f, 88.7229f, -87.33654f, -88f, 1e-30f};
        for (float v : x) {
            float e = Exponential.expScalar(v);
            if (Float.isNaN(v)) assertTrue(Float.isNaN(e));
            else if (v > 88.7228394f) assertEquals(Float.POSITIVE_INFINITY, e);
            else if (v < -87.3365402f) assertEquals(0f, e);
            else assertEquals(Math.exp(v), e, 2 * Math.ulp((float) Math.exp(v)), "exp(" + v + ")");
            float[] lanes = new float[F.length()];
            java.util.Arrays.fill(lanes, v);
            assertEquals(Float.floatToRawIntBits(e), Float.floatToRawIntBits(Exponential.exp(FloatVector.fromArray(F, lanes, 0)).lane(3)), "exp(" + v + ")");
        }
        assertEquals(1f, Exponential.expScalar(0f));
    }
}
