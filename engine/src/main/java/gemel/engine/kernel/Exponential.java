package gemel.engine.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * exp(x) in fp32 from multiplies and adds only, accurate to about one ulp. The Vector API's own
 * {@code EXP} runs a vendor routine when compiled and {@code Math.exp} per lane when interpreted,
 * which differ in the last bit; this one rounds the same in both, and {@link #expScalar} does the
 * very same operations on one float (bit-identical, used for loop tails).
 * Method: x = n ln2 + r with |r| <= ln2 / 2, exp(r) by a degree-7 polynomial (Cephes' expf
 * coefficients), then scaled by 2^n in two exact steps so that n = 128 does not overflow early.
 */
public final class Exponential {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f; // LN2_HI + LN2_LO = ln 2, n * LN2_HI exact
    private static final float ROUND = 12582912f;                                 // 1.5 * 2^23: adding it rounds to an integer
    private static final float OVERFLOW = 88.72283935546875f, UNDERFLOW = -87.33654022216797f; // beyond: +inf, 0
    private static final int EXPONENT_REBASE = (127 << 23) - (Float.floatToRawIntBits(ROUND) << 23); // wraps, as the shift does
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private Exponential() {}

    /** exp of every lane; +infinity above ~88.72, 0 below ~-87.34 (subnormal results flushed), NaN stays NaN. */
    public static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(UNDERFLOW).min(OVERFLOW);
        FloatVector shifted = c.fma(LOG2E, ROUND);
        FloatVector p = expOfRest(c, shifted);
        IntVector k = shifted.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND)); // n as an int in [-126, 128]
        IntVector half = k.lanewise(VectorOperators.ASHR, 1);
        FloatVector scaled = p.mul(half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(k.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        return scaled.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, OVERFLOW))
                .blend(0f, x.compare(VectorOperators.LT, UNDERFLOW));
    }

    /**
     * {@link #exp} of lanes that are all at most 0 (a softmax's x - max), bit for bit: the polynomial is the same; with n
     * in [-126, 0], 2^n is a normal float and one multiply by it rounds as the two of {@link #exp} do (both are exact but
     * for a subnormal result, which each rounds once), and no lane can overflow. About three quarters of {@link #exp}'s
     * operations; a lane above about 88.37 (n = 128) comes out wrong, so callers pass no positive ones.
     */
    public static FloatVector expNonPositive(FloatVector x) {
        FloatVector c = x.max(UNDERFLOW);
        FloatVector shifted = c.fma(LOG2E, ROUND);
        FloatVector p = expOfRest(c, shifted);
        // shifted's low bits hold n (ROUND's ulp is 1): moved up to the exponent field and rebased, they are 2^n
        IntVector twoToN = shifted.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23).add(EXPONENT_REBASE);
        return p.mul(twoToN.reinterpretAsFloats()).blend(0f, x.compare(VectorOperators.LT, UNDERFLOW));
    }

    /** exp(r) for r = c - n ln 2, n the integer that {@code shifted} (c log2 e + ROUND) holds: the reduction and polynomial. */
    private static FloatVector expOfRest(FloatVector c, FloatVector shifted) {
        FloatVector n = shifted.sub(ROUND);
        FloatVector r = n.fma(broadcast(-LN2_HI), c);
        r = n.fma(broadcast(-LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, broadcast(P2));
        p = p.fma(r, broadcast(P3));
        p = p.fma(r, broadcast(P4));
        p = p.fma(r, broadcast(P5));
        return p.fma(r.mul(r), r).add(1f);
    }

    private static FloatVector broadcast(float v) { return FloatVector.broadcast(FloatVector.SPECIES_PREFERRED, v); }

    /** The twin of {@link #exp}: the same operations in the same order on one value. */
    public static float expScalar(float x) {
        float c = Math.min(Math.max(x, UNDERFLOW), OVERFLOW);
        float shifted = Math.fma(c, LOG2E, ROUND);
        float n = shifted - ROUND;
        float r = Math.fma(n, -LN2_HI, c);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P0, P1), r, P2), r, P3), r, P4), r, P5);
        p = Math.fma(p, r * r, r) + 1f;
        int k = Float.floatToRawIntBits(shifted) - Float.floatToRawIntBits(ROUND);
        int half = k >> 1;
        float scaled = p * Float.intBitsToFloat((half + 127) << 23) * Float.intBitsToFloat((k - half + 127) << 23);
        if (x > OVERFLOW) return Float.POSITIVE_INFINITY;
        if (x < UNDERFLOW) return 0f;
        return scaled;
    }
}
