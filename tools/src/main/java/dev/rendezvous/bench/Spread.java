package dev.rendezvous.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * One figure over repeated measurements: its median and its range (min to max). With an even count the median is
 * the mean of the two middle values. Values that are not numbers (a percentile of no answers) are left out.
 */
public record Spread(double median, double min, double max, int count) {

  public static Spread of(List<Double> values) {
    List<Double> v = new ArrayList<>();
    for (Double d : values) {
      if (d != null && !d.isNaN()) {
        v.add(d);
      }
    }
    if (v.isEmpty()) {
      return new Spread(Double.NaN, Double.NaN, Double.NaN, 0);
    }
    Collections.sort(v);
    int n = v.size();
    double median = n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    return new Spread(median, v.get(0), v.get(n - 1), n);
  }

  /**
   * The median, then the range in parentheses when there is more than one value: {@code 12.30 (11.02-14.20)};
   * {@code n/a} when there is no value.
   *
   * @param decimals digits after the point
   */
  public String format(int decimals) {
    if (count == 0) {
      return "n/a";
    }
    String f = "%." + decimals + "f";
    String m = String.format(Locale.ROOT, f, median);
    return count == 1 ? m : m + String.format(Locale.ROOT, " (" + f + "-" + f + ")", min, max);
  }
}
