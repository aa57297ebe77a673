package gemel.engine.kernel;

/**
 * The error function, which Java's Math lacks. Uses the Chebyshev-fitted approximation of erfc by
 * Press et al. (Numerical Recipes, "erfcc"): relative error below 1.2e-7 everywhere, enough for fp32.
 */
final class Erf {
    private Erf() {}

    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        double erfc = t * Math.exp(poly);
        return x >= 0 ? 1 - erfc : erfc - 1;
    }
}
