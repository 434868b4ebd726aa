package dev.rendezvous.bench;

import dev.rendezvous.embedded.EmbeddedSystem;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A soak run: steady open-loop load ({@link LoadGenerator}) against a running embedded system for a long time,
 * watching that memory and the bounded tables do not grow with time. Before the load, every {@code sampleEvery}
 * during it and after it, the run collects garbage and samples the used heap, and reads the sizes of the tables
 * that hold one entry per request in flight (the rendezvous's pending requests, {@code rdv_rendezvous_pending}, and
 * the proxy's table of waiting requests, {@code rdv_proxy_waiting}). After the load it waits, up to {@code
 * settle}, for those tables to empty.
 *
 * <p>What is measured is the whole JVM's heap, broker included: a leak of one entry per request shows as
 * growth with the number of requests, which the report compares with the heap after the warm-up.
 */
public final class Soak {

  /** The tables sampled: gauge name to the label in the report. */
  static final Map<String, String> TABLES = Map.of("rdv.rendezvous.pending", "rendezvous pending",
      "rdv.proxy.waiting", "proxy waiting");

  /**
   * @param problem the problem scored
   * @param rate requests per second
   * @param warmUpMs load before the first sample, so that the JIT and the caches have settled
   * @param durationMs load while sampling
   * @param sampleEveryMs time between samples during the load
   * @param settleMs longest wait after the load for the tables to empty
   */
  public record Settings(String problem, double rate, long warmUpMs, long durationMs, long sampleEveryMs,
      long settleMs) {}

  /** One sample: when (ms since the start of the sampled load), the used heap after a GC, and each table's size. */
  public record Sample(long atMs, String phase, long heapAfterGcBytes, Map<String, Double> tables) {}

  /** Every sample, the load's outcome, and the figures the report and the checks use. */
  public record Report(Settings settings, List<Sample> samples, LoadGenerator.Outcome load) {

    public Sample afterWarmUp() {
      return samples.get(0);
    }

    public Sample last() {
      return samples.get(samples.size() - 1);
    }

    public long maxHeapBytes() {
      return samples.stream().mapToLong(Sample::heapAfterGcBytes).max().orElse(0);
    }

    public double maxTable(String label) {
      return samples.stream().mapToDouble(s -> s.tables().getOrDefault(label, 0.0)).max().orElse(0);
    }

    /**
     * Whether the heap after the load stayed below {@code factor} times the heap after the warm-up plus {@code
     * slackBytes}: generous on purpose, the point is growth without bound, not a few megabytes.
     */
    public boolean heapBounded(double factor, long slackBytes) {
      return last().heapAfterGcBytes() < factor * afterWarmUp().heapAfterGcBytes() + slackBytes;
    }

    public String markdown() {
      StringBuilder b = new StringBuilder("# Soak run\n\n");
      b.append("- ").append(Instant.now()).append(", ").append(BenchReport.machine()).append('\n');
      b.append(String.format("- Problem %s, %.0f req/s open loop, %d s of warm-up load, then %d s sampled every %d s;"
              + " heap used after an explicit GC%n", settings.problem(), settings.rate(), settings.warmUpMs() / 1000,
          settings.durationMs() / 1000, settings.sampleEveryMs() / 1000));
      b.append(String.format("- Load: %d sent, %d answered 200, %d errors, p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
          load.sent(), load.answered(), load.errors(), load.percentileMs(50), load.percentileMs(99), load.maxMs()));
      b.append(String.format("- Heap after the warm-up %s, at the end %s, max %s%n", mb(afterWarmUp()
          .heapAfterGcBytes()), mb(last().heapAfterGcBytes()), mb(maxHeapBytes())));
      for (String label : TABLES.values()) {
        b.append(String.format("- %s: max %.0f, at the end %.0f%n", label, maxTable(label),
            last().tables().getOrDefault(label, 0.0)));
      }
      b.append("\n| s | phase | heap after GC | ");
      TABLES.values().forEach(l -> b.append(l).append(" | "));
      b.append("\n|---|---|---|").append("---|".repeat(TABLES.size())).append('\n');
      for (Sample s : samples) {
        b.append("| ").append(s.atMs() / 1000).append(" | ").append(s.phase()).append(" | ")
            .append(mb(s.heapAfterGcBytes())).append(" | ");
        TABLES.values().forEach(l -> b.append(String.format("%.0f | ", s.tables().getOrDefault(l, 0.0))));
        b.append('\n');
      }
      return b.toString();
    }

    /** Writes {@link #markdown()} to {@code dir/soak-<time>.md} and returns the file. */
    public Path write(Path dir) throws IOException {
      Files.createDirectories(dir);
      Path file = dir.resolve("soak-" + Instant.now().toString().replace(':', '-') + ".md");
      Files.writeString(file, markdown());
      return file;
    }
  }

  private Soak() {}

  /** Runs the soak against {@code system}, sending {@code bodies} in turn. */
  public static Report run(EmbeddedSystem system, Settings s, List<String> bodies) throws Exception {
    MeterRegistry metrics = system.metrics();
    if (s.warmUpMs() > 0) {
      LoadGenerator.run(new LoadGenerator.Settings(system.url(), s.problem(), bodies, s.rate(), s.warmUpMs(),
          Double.MAX_VALUE, 64));
    }
    List<Sample> samples = new ArrayList<>();
    long start = System.nanoTime();
    samples.add(sample(metrics, start, "after warm-up"));
    CompletableFuture<LoadGenerator.Outcome> load = CompletableFuture.supplyAsync(() -> {
      try {
        return LoadGenerator.run(new LoadGenerator.Settings(system.url(), s.problem(), bodies, s.rate(),
            s.durationMs(), Double.MAX_VALUE, 64));
      } catch (Exception e) {
        throw new IllegalStateException("the soak load failed: " + e, e);
      }
    });
    while (!load.isDone()) {
      try {
        load.get(s.sampleEveryMs(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        samples.add(sample(metrics, start, "load"));
      }
    }
    LoadGenerator.Outcome outcome = load.get();
    long settleUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(s.settleMs());
    while (tables(metrics).values().stream().anyMatch(v -> v > 0) && System.nanoTime() < settleUntil) {
      Thread.sleep(100);
    }
    samples.add(sample(metrics, start, "after load"));
    return new Report(s, samples, outcome);
  }

  private static Sample sample(MeterRegistry metrics, long startNanos, String phase) {
    Map<String, Double> tables = tables(metrics);
    System.gc();
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    Sample s = new Sample((System.nanoTime() - startNanos) / 1_000_000, phase, heap, tables);
    System.out.printf("soak %5d s %-13s heap after GC %s, tables %s%n", s.atMs() / 1000, phase, mb(heap), tables);
    return s;
  }

  /** Each table's size, summed over the problems. */
  static Map<String, Double> tables(MeterRegistry metrics) {
    Map<String, Double> out = new LinkedHashMap<>();
    TABLES.forEach((gauge, label) -> out.put(label,
        metrics.find(gauge).gauges().stream().mapToDouble(Gauge::value).sum()));
    return out;
  }

  private static String mb(long bytes) {
    return String.format("%.1f MB", bytes / 1048576.0);
  }
}
