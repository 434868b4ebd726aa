package dev.rendezvous.canary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/**
 * The drift statistic's promises, with seeded random scores: under no shift its p-values are uniform (so a
 * threshold at p is a false-alarm rate of p per window), a long run raises no alarm, and a real shift is
 * caught in the first window. Reference 1000 scores, windows of 200, 10 bins, alarm at p < 1e-4: the
 * defaults.
 */
class DriftStatisticTest {

  static final int REFERENCE = 1000;
  static final int WINDOW = 200;

  @Test
  void chiSquareTailMatchesPublishedTables() {
    assertThat(ChiSquare.pValue(3.841459, 1)).isCloseTo(0.05, within(1e-6));
    assertThat(ChiSquare.pValue(16.918978, 9)).isCloseTo(0.05, within(1e-6));
    assertThat(ChiSquare.pValue(27.877165, 9)).isCloseTo(0.001, within(1e-7));
    assertThat(ChiSquare.pValue(2.0, 2)).isCloseTo(Math.exp(-1), within(1e-12));
    assertThat(ChiSquare.criticalValue(1e-4, 9)).isCloseTo(33.7199, within(1e-3));
    assertThat(ChiSquare.criticalValue(0.01, 1)).isCloseTo(6.634897, within(1e-5));
  }

  @Test
  void gTestOfIdenticalRowsIsZeroAndOfDisjointRowsIsLarge() {
    GTest same = GTest.homogeneity(new double[] {10, 20, 30}, new double[] {1, 2, 3});
    assertThat(same.g()).isCloseTo(0, within(1e-12));
    assertThat(same.df()).isEqualTo(2);
    assertThat(same.pValue()).isCloseTo(1, within(1e-12));
    GTest apart = GTest.homogeneity(new double[] {50, 50, 0, 0}, new double[] {0, 0, 50, 50});
    assertThat(apart.pValue()).isLessThan(1e-20);
  }

  /** Scores of a probabilistic model: the logistic of a normal score. */
  static DoubleSupplier logistic(Random random, double shift) {
    return () -> 1 / (1 + Math.exp(-(random.nextGaussian() * 1.5 - 0.5 + shift)));
  }

  /** Scores of a tree model: twenty distinct values, so ties at the cuts are the rule. */
  static DoubleSupplier discrete(Random random) {
    return () -> Math.round(1 / (1 + Math.exp(-(random.nextGaussian() * 1.5))) * 20) / 20.0;
  }

  static double[] pValuesOfWindows(DoubleSupplier scores, int windows, DriftDetector d) {
    double[] p = new double[windows];
    int n = 0;
    while (n < windows) {
      DriftDetector.Drift drift = d.add(scores.getAsDouble());
      if (drift != null) {
        p[n++] = drift.test().pValue();
      }
    }
    return p;
  }

  static double fractionBelow(double[] p, double level) {
    return java.util.Arrays.stream(p).filter(x -> x < level).count() / (double) p.length;
  }

  @Test
  void withoutShiftTheFalseAlarmRateIsTheThresholdPValue() {
    // 5000 independent references, one window each: how often does a window look drifted by chance?
    for (boolean ties : new boolean[] {false, true}) {
      double[] p = new double[5000];
      Random random = new Random(ties ? 11 : 12);
      for (int i = 0; i < p.length; i++) {
        DriftDetector d = new DriftDetector(REFERENCE, WINDOW, 10, 1e-4);
        p[i] = pValuesOfWindows(ties ? discrete(random) : logistic(random, 0), 1, d)[0];
      }
      System.out.printf("ties %s: p<0.5 %.4f, p<0.05 %.4f, p<0.01 %.4f, p<0.001 %.4f%n", ties, fractionBelow(p, 0.5),
          fractionBelow(p, 0.05), fractionBelow(p, 0.01), fractionBelow(p, 0.001));
      assertThat(fractionBelow(p, 0.05)).as("ties " + ties).isBetween(0.04, 0.06);
      assertThat(fractionBelow(p, 0.01)).as("ties " + ties).isBetween(0.006, 0.014);
      assertThat(fractionBelow(p, 0.5)).as("ties " + ties).isBetween(0.47, 0.53);
    }
  }

  @Test
  void aLongRunWithoutShiftRaisesNoAlarm() {
    DriftDetector d = new DriftDetector(REFERENCE, WINDOW, 10, 1e-4);
    Random random = new Random(42);
    DoubleSupplier scores = logistic(random, 0);
    int alarms = 0;
    for (int i = 0; i < REFERENCE + 500 * WINDOW; i++) { // 100,000 scores in 500 windows
      DriftDetector.Drift drift = d.add(scores.getAsDouble());
      if (drift != null && drift.alarm()) {
        alarms++;
      }
    }
    assertThat(d.windows()).isEqualTo(500);
    assertThat(alarms).isZero();
  }

  @Test
  void aShiftOfAThirdOfAStandardDeviationIsCaughtInTheFirstWindow() {
    Random random = new Random(3);
    DriftDetector d = new DriftDetector(REFERENCE, WINDOW, 10, 1e-4);
    DoubleSupplier before = logistic(random, 0);
    for (int i = 0; i < REFERENCE + 3 * WINDOW; i++) {
      DriftDetector.Drift drift = d.add(before.getAsDouble());
      assertThat(drift == null || !drift.alarm()).isTrue();
    }
    DoubleSupplier after = logistic(random, 0.5); // 0.5 on a logit whose sd is 1.5
    DriftDetector.Drift first = null;
    for (int i = 0; i < WINDOW; i++) {
      first = d.add(after.getAsDouble());
    }
    assertThat(first).isNotNull();
    assertThat(first.alarm()).as("G = %s, p = %s", first.test().g(), first.test().pValue()).isTrue();
  }

  @Test
  void spearmanAndMeanDifferenceOfPairs() {
    PairedWindow w = new PairedWindow(4);
    w.add(0.1, 0.2);
    w.add(0.5, 0.3);
    w.add(0.9, 0.8);
    assertThat(w.spearman()).isCloseTo(1.0, within(1e-12));
    w.add(0.2, 0.9); // window now [0.1,0.5,0.9,0.2] vs [0.2,0.3,0.8,0.9]
    assertThat(w.meanDifference()).isCloseTo((0.1 + 0.5 + 0.9 + 0.2 - 0.2 - 0.3 - 0.8 - 0.9) / 4, within(1e-12));
    assertThat(w.spearman()).isCloseTo(0.4, within(1e-12)); // ranks 1,3,4,2 against 1,2,3,4
    w.add(0.3, 0.1); // the oldest pair leaves the window
    assertThat(w.size()).isEqualTo(4);
    assertThat(PairedWindow.ranks(new double[] {3, 1, 3, 2})).containsExactly(3.5, 1, 3.5, 2);
  }
}
