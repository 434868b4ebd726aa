package dev.rendezvous.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

/** Probabilities land in buckets of 0.05, labelled by model, and warm-ups do not count. */
class ScoreHistogramTest {

  @Test
  void bucketsProbabilitiesByTwentiethsPerModel() {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    ScoreHistogram mlp = new ScoreHistogram(registry, "p", "bc-mlp", "2", "serving");
    ScoreHistogram canary = new ScoreHistogram(registry, "p", "bc-canary", "1", "canary");
    mlp.record(0.33);
    mlp.record(0.049);
    mlp.record(0.98);
    canary.record(0.5);

    String scrape = registry.scrape();
    String mlpLabels = "model=\"bc-mlp\",problem=\"p\",role=\"serving\",version=\"2\"";
    assertThat(scrape)
        .contains("rdv_model_score_bucket{" + mlpLabels + ",le=\"0.05\"} 1")
        .contains("rdv_model_score_bucket{" + mlpLabels + ",le=\"0.3\"} 1")
        .contains("rdv_model_score_bucket{" + mlpLabels + ",le=\"0.35\"} 2")
        .contains("rdv_model_score_bucket{" + mlpLabels + ",le=\"0.95\"} 2")
        .contains("rdv_model_score_bucket{" + mlpLabels + ",le=\"1.0\"} 3")
        .contains("rdv_model_score_count{" + mlpLabels + "} 3")
        .contains("rdv_model_score_bucket{model=\"bc-canary\",problem=\"p\",role=\"canary\",version=\"1\","
            + "le=\"0.5\"} 1");
  }

  @Test
  void warmUpRequestsAreNotCounted() {
    assertThat(ScoreHistogram.counts(dev.rendezvous.common.WarmUp.PREFIX + "p1-abc")).isFalse();
    assertThat(ScoreHistogram.counts(null)).isTrue();
    assertThat(ScoreHistogram.counts("p1-abc")).isTrue();
    // A client's own id plays no part: only the proxy stamps request ids.
    assertThat(ScoreHistogram.counts("rendezvous-warm-up")).isTrue();
  }
}
