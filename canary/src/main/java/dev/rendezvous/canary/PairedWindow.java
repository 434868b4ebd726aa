package dev.rendezvous.canary;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The last {@code size} requests scored by both a model and the canary, as (model score, canary score)
 * pairs, with the paired statistics: mean difference and Spearman's rank correlation (ties get their mean
 * rank). Not thread-safe.
 */
final class PairedWindow {

  private final double[] model;
  private final double[] canary;
  private int count;
  private int next;

  PairedWindow(int size) {
    this.model = new double[size];
    this.canary = new double[size];
  }

  void add(double modelScore, double canaryScore) {
    model[next] = modelScore;
    canary[next] = canaryScore;
    next = (next + 1) % model.length;
    count = Math.min(count + 1, model.length);
  }

  int size() {
    return count;
  }

  double[] modelScores() {
    return Arrays.copyOf(model, count);
  }

  double[] canaryScores() {
    return Arrays.copyOf(canary, count);
  }

  /** Mean of (model − canary) over the window. */
  double meanDifference() {
    double sum = 0;
    for (int i = 0; i < count; i++) {
      sum += model[i] - canary[i];
    }
    return count == 0 ? Double.NaN : sum / count;
  }

  /** Spearman's ρ over the window; NaN with fewer than 3 pairs or when either side is constant. */
  double spearman() {
    if (count < 3) {
      return Double.NaN;
    }
    return pearson(ranks(modelScores()), ranks(canaryScores()));
  }

  static double[] ranks(double[] values) {
    Integer[] order = IntStream.range(0, values.length).boxed().toArray(Integer[]::new);
    Arrays.sort(order, Comparator.comparingDouble(i -> values[i]));
    double[] ranks = new double[values.length];
    for (int i = 0; i < order.length; ) {
      int j = i;
      while (j + 1 < order.length && values[order[j + 1]] == values[order[i]]) {
        j++;
      }
      double mean = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        ranks[order[k]] = mean;
      }
      i = j + 1;
    }
    return ranks;
  }

  static double pearson(double[] x, double[] y) {
    double mx = Arrays.stream(x).average().orElse(0);
    double my = Arrays.stream(y).average().orElse(0);
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < x.length; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
    return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
  }
}
