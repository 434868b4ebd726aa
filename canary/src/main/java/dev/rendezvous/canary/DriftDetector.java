package dev.rendezvous.canary;

import com.tdunning.math.stats.MergingDigest;
import java.util.Arrays;

/**
 * Compares one model's recent scores with its own reference: the first {@code referenceSize} scores it
 * sees. Recent scores are taken in consecutive, non-overlapping windows of {@code windowSize}; when a window
 * is full it is tested against the reference with a {@link GTest} over {@code bins} bins cut at the
 * reference's quantiles, and the next window starts empty.
 *
 * <p>Why this way: a G-test on bins has a known null distribution (χ², k − 1 degrees of freedom) whatever
 * the model's score distribution, so a p-value threshold is a stated false-alarm rate per window.
 * Non-overlapping windows make the tests independent, so over W windows about W × p false alarms are
 * expected, no more. Treating the reference as a sample too (a 2 × k table, not a fixed expectation) keeps
 * the null distribution right when the reference is only a few times larger than a window. A t-digest of
 * the reference places the cuts; the counts themselves are exact (the reference values are kept: a few
 * kilobytes), so ties, common in tree models' scores, fall on the same side of a cut in both rows.
 * Not thread-safe: the monitor's thread feeds it.
 */
final class DriftDetector {

  /** One window's verdict. */
  record Drift(long window, GTest test, boolean alarm) {}

  private final int referenceSize;
  private final int windowSize;
  private final int bins;
  private final double alarmPValue;
  private final MergingDigest referenceDigest = new MergingDigest(200);
  private final double[] reference;
  private int referenceCount;
  private double[] cuts;
  private double[] referenceCounts;
  private double[] windowCounts;
  private int inWindow;
  private long windows;
  private MergingDigest recentDigest = new MergingDigest(100);

  DriftDetector(int referenceSize, int windowSize, int bins, double alarmPValue) {
    if (referenceSize < bins || windowSize < bins || bins < 2) {
      throw new IllegalArgumentException("need at least 2 bins and at least one score per bin in reference and window");
    }
    this.referenceSize = referenceSize;
    this.windowSize = windowSize;
    this.bins = bins;
    this.alarmPValue = alarmPValue;
    this.reference = new double[referenceSize];
  }

  /** Adds a score; returns the verdict when it completes a window, else null. */
  Drift add(double score) {
    if (cuts == null) {
      reference[referenceCount++] = score;
      referenceDigest.add(score);
      if (referenceCount == referenceSize) {
        freezeReference();
      }
      return null;
    }
    windowCounts[bin(score)]++;
    recentDigest.add(score);
    if (++inWindow < windowSize) {
      return null;
    }
    GTest test = GTest.homogeneity(referenceCounts, windowCounts);
    Arrays.fill(windowCounts, 0);
    inWindow = 0;
    recentDigest = new MergingDigest(100);
    windows++;
    return new Drift(windows, test, test.df() > 0 && test.pValue() < alarmPValue);
  }

  private void freezeReference() {
    double[] q = new double[bins - 1];
    int n = 0;
    for (int i = 1; i < bins; i++) {
      double cut = referenceDigest.quantile((double) i / bins);
      if (n == 0 || cut > q[n - 1]) {
        q[n++] = cut; // repeated values can make quantiles coincide: one cut each
      }
    }
    cuts = Arrays.copyOf(q, n);
    referenceCounts = new double[cuts.length + 1];
    windowCounts = new double[cuts.length + 1];
    for (double v : reference) {
      referenceCounts[bin(v)]++;
    }
  }

  /** Values equal to a cut fall into the lower bin. */
  private int bin(double v) {
    int i = Arrays.binarySearch(cuts, v);
    return i >= 0 ? i : -i - 1;
  }

  boolean referenceReady() {
    return cuts != null;
  }

  int referenceCount() {
    return referenceCount;
  }

  /** Completed windows. */
  long windows() {
    return windows;
  }

  double referenceQuantile(double q) {
    return referenceDigest.size() == 0 ? Double.NaN : referenceDigest.quantile(q);
  }

  /** The critical value of G for the current cuts: the statistic crossing it raises the alarm. */
  double threshold() {
    int df = cuts == null ? bins - 1 : cuts.length;
    return ChiSquare.criticalValue(alarmPValue, Math.max(1, df));
  }
}
