package dev.rendezvous.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes a run's numbers as Markdown: the machine, the settings, a table per scenario. */
public final class BenchReport {

  private BenchReport() {}

  public static String machine() {
    long memBytes = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getTotalMemorySize();
    String gcs = ManagementFactory.getGarbageCollectorMXBeans().stream().map(g -> g.getName())
        .collect(java.util.stream.Collectors.joining(" + "));
    return Runtime.getRuntime().availableProcessors() + " cores, " + (memBytes >> 30) + " GiB memory, "
        + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + " (max heap "
        + (Runtime.getRuntime().maxMemory() >> 20) + " MiB, " + gcs + "), "
        + System.getProperty("os.name") + " " + System.getProperty("os.arch");
  }

  /** A group of repeated measurements shown as one row: its label and its repetitions. */
  public record Group(String label, List<Measurement> runs) {}

  /**
   * One row per group: the median over its repetitions of each figure, with the range (min-max) in parentheses.
   * Latencies count from each request's due time, over every HTTP answer; SLA is the share of requests sent that
   * were answered 200 within the SLA; defaults the share answered by the default; broker requests are Fetch +
   * Produce per HTTP request; not 200 adds refusals, other statuses and connection errors; late sends are
   * requests the generator sent more than {@value LoadGenerator#LATE_SEND_MS} ms after due (largest count of a
   * repetition), with the largest lag; in flight is the most concurrent requests (those waiting for a connection
   * included) against the pool's size, marked "capped" when every connection was busy at some point; past
   * deadline is the server's own count, over every repetition, of answers written after their deadline and of
   * those more than 5 ms after it ("n/a" where the system does not count them).
   */
  public static String summaryTable(String title, String firstHeader, List<Group> groups) {
    StringBuilder b = new StringBuilder("### ").append(title).append("\n\n");
    b.append("| ").append(firstHeader).append(" | runs | achieved req/s | p50 ms | p99 ms | max ms | SLA % "
        + "| defaults % | broker req / HTTP | not 200 | late sends (max lag ms) | in flight / pool "
        + "| past deadline / > +5 ms (server) |\n"
        + "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Group g : groups) {
      List<Measurement> r = g.runs();
      long late = r.stream().mapToLong(m -> m.outcome().lateSends()).max().orElse(0);
      double lag = r.stream().mapToLong(m -> m.outcome().maxSendLagUs()).max().orElse(0) / 1000.0;
      int inFlight = r.stream().mapToInt(m -> m.outcome().maxInFlight()).max().orElse(0);
      int pool = r.stream().mapToInt(m -> m.outcome().settings().connections()).max().orElse(0);
      b.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %d (%.1f) | %d / %d%s "
              + "| %s |%n",
          g.label(), r.size(), spread(r, m -> m.outcome().achievedRate()).format(0),
          spread(r, m -> m.outcome().percentileMs(50)).format(2), spread(r, m -> m.outcome().percentileMs(99)).format(2),
          spread(r, m -> m.outcome().maxMs()).format(2), spread(r, m -> m.outcome().slaAttainment() * 100).format(2),
          spread(r, m -> m.outcome().defaultShare() * 100).format(2), spread(r, Measurement::brokerPerRequest).format(1),
          spread(r, m -> (double) m.outcome().errors()).format(0), late, lag, inFlight, pool,
          r.stream().anyMatch(m -> m.outcome().poolCapped()) ? " capped" : "",
          pastDeadline(r.stream().map(Measurement::lateness).toList())));
    }
    return b.append('\n').toString();
  }

  /** Every measurement in the order it was taken, with its answers by status and by model, tier or default. */
  public static String measurementsTable(List<Measurement> all) {
    StringBuilder b = new StringBuilder("| # | system | rate | run | p50 ms | p99 ms | max ms | SLA % | defaults % "
        + "| broker req / HTTP | statuses | connection errors | late sends | past deadline / > +5 ms (server) "
        + "| answers |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    int i = 1;
    for (Measurement m : all) {
      LoadGenerator.Outcome o = m.outcome();
      b.append(String.format(Locale.ROOT, "| %d | %s | %.0f | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s | %d "
              + "| %d | %s | %s |%n", i++, m.system(), m.rate(), m.repetition(), o.percentileMs(50),
          o.percentileMs(99), o.maxMs(), o.slaAttainment() * 100, o.defaultShare() * 100,
          Double.isNaN(m.brokerPerRequest()) ? "n/a" : String.format(Locale.ROOT, "%.1f", m.brokerPerRequest()),
          statuses(o.statuses()), o.connectionErrors(), o.lateSends(),
          pastDeadline(m.lateness()), answers(o.answers())));
    }
    return b.append('\n').toString();
  }

  /**
   * One flood and the check right after it.
   *
   * @param lateness the server's own count of answers written after their deadline during the flood, or null
   */
  public record FloodRun(int repetition, FloodGenerator.Outcome flood, LoadGenerator.Outcome after,
      ServerLateness.Count lateness) {

    public FloodRun(int repetition, FloodGenerator.Outcome flood, LoadGenerator.Outcome after) {
      this(repetition, flood, after, null);
    }
  }

  /** One run's late answers by the server's count: "late / beyond 5 ms", or "n/a" without a count. */
  static String pastDeadline(ServerLateness.Count run) {
    return pastDeadline(Collections.singletonList(run));
  }

  /** Late answers by the server's count, summed over runs: "late / beyond 5 ms", or "n/a" if any run lacks it. */
  static String pastDeadline(List<ServerLateness.Count> runs) {
    if (runs.isEmpty() || runs.contains(null)) {
      return "n/a";
    }
    return runs.stream().mapToLong(ServerLateness.Count::late).sum() + " / "
        + runs.stream().mapToLong(ServerLateness.Count::beyondGrace).sum();
  }

  /**
   * The flood's figures over its repetitions (median and range): answers per second, status counts, latency of
   * every answer (refusals included) from its send time, connection errors; then the low-rate check right after.
   */
  public static String floodTable(List<FloodRun> runs) {
    StringBuilder b = new StringBuilder("| runs | answers/s | 200 | 429 | 503 | other status | connection errors "
        + "| p50 ms | p99 ms | max ms | 200 within SLA % | defaults % of 200 | after: SLA % | after: defaults % "
        + "| after: first timely model answer ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    b.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
        runs.size(), spreadOf(runs, r -> r.flood().answersPerSecond()).format(0),
        spreadOf(runs, r -> (double) r.flood().status(200)).format(0),
        spreadOf(runs, r -> (double) r.flood().status(429)).format(0),
        spreadOf(runs, r -> (double) r.flood().status(503)).format(0),
        spreadOf(runs, r -> (double) r.flood().otherStatuses()).format(0),
        spreadOf(runs, r -> (double) r.flood().connectionErrors()).format(0),
        spreadOf(runs, r -> r.flood().percentileMs(50)).format(2), spreadOf(runs, r -> r.flood().percentileMs(99)).format(2),
        spreadOf(runs, r -> r.flood().maxMs()).format(2),
        spreadOf(runs, r -> r.flood().status(200) == 0 ? Double.NaN
            : 100.0 * (r.flood().status(200) - r.flood().slaMisses()) / r.flood().status(200)).format(2),
        spreadOf(runs, r -> r.flood().defaultShareOf200() * 100).format(2),
        spreadOf(runs, r -> r.after().slaAttainment() * 100).format(2),
        spreadOf(runs, r -> r.after().defaultShare() * 100).format(2),
        spreadOf(runs, r -> r.after().firstGoodDueMs() < 0 ? Double.NaN : (double) r.after().firstGoodDueMs())
            .format(0)));
    b.append("\n| run | statuses | connection errors | past deadline / > +5 ms (server) | answers |\n"
        + "|---|---|---|---|---|\n");
    for (FloodRun r : runs) {
      b.append(String.format(Locale.ROOT, "| %d | %s | %d | %s | %s |%n", r.repetition(),
          statuses(r.flood().statuses()), r.flood().connectionErrors(),
          pastDeadline(r.lateness()), answers(r.flood().answers())));
    }
    return b.append('\n').toString();
  }

  /** One /metrics flood: the scoring load and the pollers beside it. */
  public record MetricsFloodRun(int repetition, LoadGenerator.Outcome scoring, FloodGenerator.Outcome pollers) {}

  public static String metricsFloodTable(List<MetricsFloodRun> runs) {
    StringBuilder b = new StringBuilder("| runs | scoring req/s | defaults % | SLA % | p50 ms | p99 ms | max ms "
        + "| not 200 | scrapes/s | scrape p99 ms |\n|---|---|---|---|---|---|---|---|---|---|\n");
    b.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", runs.size(),
        spreadOf(runs, r -> r.scoring().achievedRate()).format(0),
        spreadOf(runs, r -> r.scoring().defaultShare() * 100).format(2),
        spreadOf(runs, r -> r.scoring().slaAttainment() * 100).format(2),
        spreadOf(runs, r -> r.scoring().percentileMs(50)).format(2),
        spreadOf(runs, r -> r.scoring().percentileMs(99)).format(2), spreadOf(runs, r -> r.scoring().maxMs()).format(2),
        spreadOf(runs, r -> (double) r.scoring().errors()).format(0),
        spreadOf(runs, r -> r.pollers().answersPerSecond()).format(1),
        spreadOf(runs, r -> r.pollers().percentileMs(99)).format(1)));
    return b.append('\n').toString();
  }

  static Spread spread(List<Measurement> runs, java.util.function.ToDoubleFunction<Measurement> f) {
    return Spread.of(runs.stream().map(m -> f.applyAsDouble(m)).toList());
  }

  static <T> Spread spreadOf(List<T> runs, java.util.function.ToDoubleFunction<T> f) {
    return Spread.of(runs.stream().map(m -> f.applyAsDouble(m)).toList());
  }

  static String statuses(Map<Integer, Long> statuses) {
    StringBuilder b = new StringBuilder();
    new java.util.TreeMap<>(statuses).forEach((k, v) -> b.append(b.length() == 0 ? "" : "; ").append(k).append(": ").append(v));
    return b.length() == 0 ? "none" : b.toString();
  }

  public static String table(String title, List<LoadGenerator.Outcome> outcomes) {
    StringBuilder b = new StringBuilder("### ").append(title).append("\n\n");
    b.append("| target req/s | achieved req/s | sent | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | SLA attainment "
        + "| errors | answers |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (LoadGenerator.Outcome o : outcomes) {
      b.append(String.format("| %.0f | %.0f | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f%% | %d | %s |%n",
          o.settings().rate(), o.achievedRate(), o.sent(), o.percentileMs(50), o.percentileMs(90),
          o.percentileMs(99), o.percentileMs(99.9), o.latencyUs().getMaxValue() / 1000.0, o.slaAttainment() * 100,
          o.errors(), answers(o.answers())));
    }
    return b.append('\n').toString();
  }

  public static String onnxTable(List<OnnxTiming.Result> results) {
    StringBuilder b = new StringBuilder("### Single-model inference in process (ONNX Runtime, 1 intra-op thread)\n\n");
    b.append("| model | batch | calls | p50 µs | p99 µs | mean µs |\n|---|---|---|---|---|---|\n");
    for (OnnxTiming.Result r : results) {
      b.append(String.format("| %s | %d | %d | %.1f | %.1f | %.1f |%n", r.model(), r.batch(), r.calls(), r.p50Us(),
          r.p99Us(), r.meanUs()));
    }
    return b.append('\n').toString();
  }

  private static String answers(Map<String, Long> answers) {
    StringBuilder b = new StringBuilder();
    answers.forEach((k, v) -> b.append(b.length() == 0 ? "" : "; ").append(k).append(": ").append(v));
    return b.toString();
  }

  /** Writes {@code body} under {@code dir} as {@code <prefix>-<UTC time>.md} and returns the file. */
  public static Path write(Path dir, String prefix, String title, String settings, String body) throws IOException {
    Files.createDirectories(dir);
    String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path file = dir.resolve(prefix + "-" + stamp + ".md");
    Files.writeString(file, "# " + title + "\n\n- When: " + stamp + " UTC\n- Machine: " + machine() + "\n"
        + settings + "\n" + body);
    return file;
  }
}
