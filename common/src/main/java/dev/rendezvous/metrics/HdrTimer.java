package dev.rendezvous.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A latency timer that records every value twice, cheaply: into a Micrometer timer exported as the
 * Prometheus histogram {@code <name>_seconds} (fixed buckets, {@link Metrics#LATENCY_BUCKETS_SECONDS}, which
 * aggregate across instances), and into an HdrHistogram {@link Recorder} (wait-free, microsecond resolution,
 * three significant digits, up to 60 s) whose exact quantiles over the last minute are exported as the gauge
 * {@code <name>_window_seconds} with the label {@code quantile} ({@code 0.5}, {@code 0.99}, {@code 0.999} and
 * {@code 1} for the maximum). The quantiles see the tail that bucket boundaries hide; they are per instance
 * and must not be averaged across instances.
 *
 * <p>The window moves when it is read: each read at least five seconds after the last closes an interval, and
 * intervals closed more than a minute ago are dropped. With a scrape every few seconds the quantiles cover the
 * last minute; values recorded before a long pause in scraping count in the first interval after it.
 *
 * <p>Recording is safe from any thread; reading (a scrape) takes a lock shared only with other reads.
 */
public final class HdrTimer {

  private static final long HIGHEST_US = TimeUnit.SECONDS.toMicros(60);
  private static final double[] QUANTILES = {0.5, 0.99, 0.999, 1.0};

  private final Timer timer;
  private final Recorder recorder = new Recorder(1, HIGHEST_US, 3);
  private final LongSupplier nanoTime;
  private final long windowNanos;
  private final long rotateNanos;
  private final ArrayDeque<Interval> intervals = new ArrayDeque<>();
  private final Histogram window = new Histogram(1, HIGHEST_US, 3);
  private Histogram spare;
  private long rotatedAt;

  private record Interval(long endNanos, Histogram histogram) {}

  public HdrTimer(MeterRegistry registry, String name, String description, Tags tags) {
    this(registry, name, description, tags, System::nanoTime, TimeUnit.MINUTES.toNanos(1));
  }

  HdrTimer(MeterRegistry registry, String name, String description, Tags tags, LongSupplier nanoTime,
      long windowNanos) {
    this.timer = Metrics.latency(registry, name, description, tags);
    this.nanoTime = nanoTime;
    this.windowNanos = windowNanos;
    this.rotateNanos = Math.max(1, windowNanos / 12);
    this.rotatedAt = nanoTime.getAsLong();
    for (double q : QUANTILES) {
      Gauge.builder(name + ".window", this, t -> t.quantileSeconds(q))
          .description(description + " (HdrHistogram quantile over the last minute)")
          .tags(tags).tag("quantile", q == 1.0 ? "1" : Double.toString(q)).baseUnit("seconds")
          .register(registry);
    }
  }

  /** Records one latency in nanoseconds; negative values (clock steps between hosts) count as zero. */
  public void record(long nanos) {
    long clamped = Math.max(0, nanos);
    timer.record(clamped, TimeUnit.NANOSECONDS);
    recorder.recordValue(Math.min(HIGHEST_US, Math.max(1, clamped / 1_000)));
  }

  /** The quantile {@code q} (1 = maximum) of the values recorded over the last window, in seconds; 0 if none. */
  public synchronized double quantileSeconds(double q) {
    long now = nanoTime.getAsLong();
    if (now - rotatedAt >= rotateNanos || intervals.isEmpty()) {
      spare = recorder.getIntervalHistogram(spare);
      intervals.addLast(new Interval(now, spare.copy()));
      rotatedAt = now;
      while (!intervals.isEmpty() && now - intervals.peekFirst().endNanos() > windowNanos) {
        intervals.removeFirst();
      }
      window.reset();
      intervals.forEach(i -> window.add(i.histogram()));
    }
    if (window.getTotalCount() == 0) {
      return 0;
    }
    long us = q >= 1.0 ? window.getMaxValue() : window.getValueAtPercentile(q * 100);
    return us / 1e6;
  }
}
