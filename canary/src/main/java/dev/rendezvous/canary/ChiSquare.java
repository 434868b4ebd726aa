package dev.rendezvous.canary;

/**
 * The chi-square distribution's upper tail, through the regularized incomplete gamma function
 * (series below {@code a + 1}, continued fraction above, as in Numerical Recipes §6.2); accurate to about
 * 1e-12 relative, far more than a drift alarm needs.
 */
public final class ChiSquare {

  private ChiSquare() {}

  /** P(X ≥ x) for X ~ χ² with {@code df} degrees of freedom. */
  public static double pValue(double x, int df) {
    if (df < 1) {
      throw new IllegalArgumentException("degrees of freedom must be at least 1, not " + df);
    }
    if (x <= 0) {
      return 1.0;
    }
    return regularizedGammaQ(df / 2.0, x / 2.0);
  }

  /** The x with P(X ≥ x) = p: the critical value of a test at level p. */
  public static double criticalValue(double p, int df) {
    double lo = 0;
    double hi = Math.max(1, df);
    while (pValue(hi, df) > p) {
      hi *= 2;
    }
    for (int i = 0; i < 200 && hi - lo > 1e-10 * hi; i++) {
      double mid = (lo + hi) / 2;
      if (pValue(mid, df) > p) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return (lo + hi) / 2;
  }

  static double regularizedGammaQ(double a, double x) {
    if (x < a + 1) {
      return 1.0 - seriesP(a, x);
    }
    return continuedFractionQ(a, x);
  }

  private static double seriesP(double a, double x) {
    double sum = 1.0 / a;
    double term = sum;
    for (int n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) {
        break;
      }
    }
    return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }

  private static double continuedFractionQ(double a, double x) {
    double tiny = 1e-300;
    double b = x + 1 - a;
    double c = 1 / tiny;
    double d = 1 / b;
    double h = d;
    for (int i = 1; i < 10_000; i++) {
      double an = -i * (i - a);
      b += 2;
      d = an * d + b;
      d = Math.abs(d) < tiny ? tiny : d;
      c = b + an / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      double delta = d * c;
      h *= delta;
      if (Math.abs(delta - 1) < 1e-15) {
        break;
      }
    }
    return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
  }

  /** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9). */
  static double logGamma(double x) {
    double[] c = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7};
    if (x < 0.5) {
      return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
    }
    x -= 1;
    double sum = c[0];
    for (int i = 1; i < 9; i++) {
      sum += c[i] / (x + i);
    }
    double t = x + 7.5;
    return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
  }
}
