/**
 * Metrics shared by every component: the Prometheus registry with the JVM and Kafka client binders
 * ({@link dev.rendezvous.metrics.Metrics}), the bucket layouts used for latencies and probabilities, the
 * per-model score histogram ({@link dev.rendezvous.metrics.ScoreHistogram}) and a tiny {@code /metrics}
 * endpoint for processes that have no HTTP server of their own ({@link dev.rendezvous.metrics.MetricsServer}).
 * Every metric is listed, with its labels, in {@code docs/metrics.md}.
 */
package dev.rendezvous.metrics;
