package dev.rendezvous.canary;

/**
 * The G-test (log-likelihood ratio) of homogeneity for two rows of bin counts: are both drawn from one
 * distribution over the bins? G = 2 Σ O ln(O / E) over the 2 × k table, with E from the row and column
 * totals; under the null hypothesis G follows χ² with (k' − 1) degrees of freedom, k' the bins that hold
 * anything. Counts may be fractional (scaled expected counts).
 *
 * @param g the statistic
 * @param df its degrees of freedom (0 when fewer than two bins hold anything: nothing to test)
 * @param pValue P(χ²_df ≥ g), 1 when df is 0
 */
public record GTest(double g, int df, double pValue) {

  public static GTest homogeneity(double[] a, double[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("both rows need the same bins");
    }
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      na += a[i];
      nb += b[i];
    }
    double n = na + nb;
    if (na <= 0 || nb <= 0) {
      return new GTest(0, 0, 1);
    }
    double g = 0;
    int columns = 0;
    for (int i = 0; i < a.length; i++) {
      double col = a[i] + b[i];
      if (col <= 0) {
        continue;
      }
      columns++;
      g += term(a[i], na * col / n) + term(b[i], nb * col / n);
    }
    g *= 2;
    int df = columns - 1;
    return new GTest(g, df, df < 1 ? 1 : ChiSquare.pValue(g, df));
  }

  private static double term(double observed, double expected) {
    return observed <= 0 ? 0 : observed * Math.log(observed / expected);
  }
}
