package dev.rendezvous.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The HdrHistogram-backed timer, with time driven by hand: one-minute window, rotated every five seconds. */
class HdrTimerTest {

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final PrometheusMeterRegistry registry = Metrics.newRegistry();
  private final HdrTimer timer = new HdrTimer(registry, "test.latency", "latency under test", Tags.of("model", "m"),
      now::get, TimeUnit.MINUTES.toNanos(1));

  @Test
  void exportsExactQuantilesOfTheLastMinuteAndCumulativeBuckets() {
    for (int us = 1; us <= 1000; us++) {
      timer.record(TimeUnit.MICROSECONDS.toNanos(us));
    }
    assertThat(timer.quantileSeconds(0.5)).isCloseTo(500e-6, within(1e-6));
    assertThat(timer.quantileSeconds(0.99)).isCloseTo(990e-6, within(1e-6));
    assertThat(timer.quantileSeconds(1.0)).isCloseTo(1000e-6, within(1e-6));

    String scrape = registry.scrape();
    assertThat(scrape).contains("test_latency_window_seconds{model=\"m\",quantile=\"0.99\"} 9.9")
        .contains("test_latency_seconds_count{model=\"m\"} 1000")
        .contains("test_latency_seconds_bucket{model=\"m\",le=\"5.0E-4\"} 500");
  }

  @Test
  void forgetsValuesOlderThanTheWindowButNotTheHistogram() {
    timer.record(TimeUnit.MILLISECONDS.toNanos(40));
    assertThat(timer.quantileSeconds(1.0)).isCloseTo(0.040, within(1e-4));

    now.addAndGet(TimeUnit.SECONDS.toNanos(30));
    timer.record(TimeUnit.MILLISECONDS.toNanos(2));
    assertThat(timer.quantileSeconds(1.0)).as("both within the minute").isCloseTo(0.040, within(1e-4));

    now.addAndGet(TimeUnit.SECONDS.toNanos(40));
    assertThat(timer.quantileSeconds(1.0)).as("the 40 ms value is 70 s old").isCloseTo(0.002, within(1e-5));

    now.addAndGet(TimeUnit.SECONDS.toNanos(120));
    assertThat(timer.quantileSeconds(0.5)).as("nothing recorded in the last minute").isZero();
    assertThat(registry.scrape()).contains("test_latency_seconds_count{model=\"m\"} 2");
  }

  @Test
  void countsNegativeLatenciesAsZero() {
    timer.record(-5_000);
    assertThat(timer.quantileSeconds(1.0)).isCloseTo(1e-6, within(1e-6));
  }
}
