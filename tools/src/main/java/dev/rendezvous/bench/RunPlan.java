package dev.rendezvous.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The order of repeated measurements: each repetition visits every system in turn (A B C A B C ...), so that a
 * drift of the machine over time (another process, a late compilation, a collection) touches every system alike
 * instead of all the repetitions of one.
 */
public final class RunPlan {

  /** One measurement: which repetition (from 1) of which system. */
  public record Step<T>(int repetition, T system) {}

  private RunPlan() {}

  public static <T> List<Step<T>> alternating(List<T> systems, int repetitions) {
    if (repetitions < 1) {
      throw new IllegalArgumentException("repetitions must be at least 1, not " + repetitions);
    }
    List<Step<T>> out = new ArrayList<>();
    for (int r = 1; r <= repetitions; r++) {
      for (T s : systems) {
        out.add(new Step<>(r, s));
      }
    }
    return out;
  }
}
