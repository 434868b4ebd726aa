package dev.rendezvous.metrics;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.function.DoubleConsumer;
import java.util.WeakHashMap;

/**
 * The distribution of one model's scores, exported as the Prometheus histogram {@code rdv_model_score} with
 * twenty buckets of 0.05 between 0 and 1 and the labels {@code problem}, {@code model}, {@code version} and
 * {@code role}. Every value of the model's first output tensor is recorded (one per row for a probability
 * output), so serving models and the canary can be compared bucket by bucket. Warm-up requests are not
 * recorded: their all-zero inputs say nothing about live traffic.
 *
 * <p>The histogram is registered with the Prometheus client underneath Micrometer's registry, because
 * Micrometer's own distribution summaries round fractional values up to whole numbers before bucketing
 * them, which would put every probability in the bucket {@code le="1.0"}. With any other registry only the
 * count and the sum are kept, as a Micrometer summary of the same name.
 */
public final class ScoreHistogram {

  /** The metric's name as Prometheus sees it. */
  public static final String NAME = "rdv_model_score";

  private static final Map<PrometheusRegistry, Histogram> FAMILIES = new WeakHashMap<>();

  private final DoubleConsumer point;

  public ScoreHistogram(MeterRegistry registry, String problem, String model, String version, String role) {
    if (registry instanceof PrometheusMeterRegistry prometheus) {
      DistributionDataPoint p = family(prometheus.getPrometheusRegistry()).labelValues(problem, model, version, role);
      this.point = p::observe;
    } else {
      DistributionSummary summary = DistributionSummary.builder(NAME.replace('_', '.'))
          .tags("problem", problem, "model", model, "version", version, "role", role).register(registry);
      this.point = summary::record;
    }
  }

  private static Histogram family(PrometheusRegistry registry) {
    synchronized (FAMILIES) {
      return FAMILIES.computeIfAbsent(registry, r -> Histogram.builder()
          .name(NAME)
          .help("Scores produced by a model: every value of its first output, in buckets of 0.05")
          .labelNames("problem", "model", "version", "role")
          .classicOnly()
          .withoutExemplars()
          .classicUpperBounds(Metrics.PROBABILITY_BUCKETS)
          .register(r));
    }
  }

  /**
   * Whether the request with this request id counts in score distributions: every request but the launcher's
   * warm-up, which the proxy marks in the request id ({@link dev.rendezvous.common.WarmUp}).
   */
  public static boolean counts(String requestId) {
    return !dev.rendezvous.common.WarmUp.isWarmUp(requestId);
  }

  public void record(double score) {
    point.accept(score);
  }
}
