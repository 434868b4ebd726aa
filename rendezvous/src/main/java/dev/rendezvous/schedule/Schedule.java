package dev.rendezvous.schedule;

import dev.rendezvous.common.Role;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One problem's schedule, as loaded and validated by {@link ScheduleLoader}: the input and output
 * signature, which models to accept as time passes, and the default answer. All times are milliseconds
 * relative to the moment the proxy received the request.
 *
 * @param problem the served problem's name
 * @param deadlineMs the service-level deadline in milliseconds, used when a request gives none
 * @param inputs the input signature; a dimension of -1 matches any size
 * @param outputs the output signature; a dimension of -1 matches any size
 * @param tiers at least one tier, with strictly increasing {@link Tier#untilMs()}
 * @param defaultOutputs the answer returned when no acceptable score came in time, one row each (dimension
 *     0 is 1), in the order of {@code outputs}
 * @param source where the schedule was read from, for log lines and error messages
 */
public record Schedule(
    String problem,
    long deadlineMs,
    List<TensorSpec> inputs,
    List<TensorSpec> outputs,
    List<Tier> tiers,
    List<Tensor> defaultOutputs,
    String source) {

  public Schedule {
    Objects.requireNonNull(problem, "problem");
    Objects.requireNonNull(source, "source");
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    tiers = List.copyOf(tiers);
    defaultOutputs = List.copyOf(defaultOutputs);
    if (tiers.isEmpty()) {
      throw new IllegalArgumentException("a schedule needs at least one tier");
    }
  }

  /** The end of the last tier, in milliseconds after receipt. */
  public long lastUntilMs() {
    return tiers.get(tiers.size() - 1).untilMs();
  }

  /**
   * Milliseconds between the end of the last tier and {@link #deadlineMs()}: the time left for the answer
   * to travel back to the client. A request with its own deadline keeps the same margin.
   */
  public double marginMs() {
    return deadlineMs - lastUntilMs();
  }

  /**
   * The moment, in milliseconds after receipt, at which the default is returned for a request that allows
   * {@code requestBudgetMs} milliseconds: the last tier's end, or earlier when the budget minus the margin
   * is shorter. Tiers keep their times; they are only cut. Zero or negative means the default is due at once.
   */
  public double cutoffMs(double requestBudgetMs) {
    return Math.min(lastUntilMs(), requestBudgetMs - marginMs());
  }

  /** Whether a score from this model version may be returned while tier {@code tier} (0-based) is active. */
  public boolean accepts(int tier, String modelId, String modelVersion, Role role) {
    return tiers.get(tier).accepts(modelId, modelVersion, role);
  }

  /**
   * The preference of this model version in tier {@code tier}: the index of its first matching accept entry,
   * lower is better, or -1 when the tier does not accept it.
   */
  public int rank(int tier, String modelId, String modelVersion, Role role) {
    return tiers.get(tier).rank(modelId, modelVersion, role);
  }

  /**
   * The default answer for a request of {@code rows} rows: each one-row default tensor repeated {@code rows}
   * times along dimension 0.
   */
  public List<Tensor> defaultOutputs(long rows) {
    if (rows < 0) {
      throw new IllegalArgumentException("rows must not be negative, not " + rows);
    }
    List<Tensor> result = new ArrayList<>(defaultOutputs.size());
    for (Tensor one : defaultOutputs) {
      long[] shape = one.shape().clone();
      shape[0] = rows;
      if (one.strings() != null) {
        List<String> strings = new ArrayList<>(Math.toIntExact(rows * one.strings().size()));
        for (int r = 0; r < rows; r++) {
          strings.addAll(one.strings());
        }
        result.add(Tensor.ofStrings(one.name(), shape, strings));
        continue;
      }
      double[] row = one.data();
      double[] data = new double[Math.toIntExact(rows * row.length)];
      for (int r = 0; r < rows; r++) {
        System.arraycopy(row, 0, data, r * row.length, row.length);
      }
      result.add(new Tensor(one.name(), one.datatype(), shape, data));
    }
    return result;
  }
}
