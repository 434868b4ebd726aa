package dev.rendezvous.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The report's tables: medians with their ranges, counts by status, and every measurement. */
class BenchReportTest {

  static final LoadGenerator.Settings AT_100 = new LoadGenerator.Settings("http://127.0.0.1:1", "p", List.of("{}"),
      100, 1_000, 50, 64);

  /**
   * An outcome of 100 requests whose 200 answers all took {@code latencyUs} (below 2,048 µs, which the histogram
   * holds exactly), {@code defaults} of them defaults, and {@code refused} refusals after 100 µs.
   */
  static LoadGenerator.Outcome outcome(long latencyUs, long defaults, long refused, long lateSends) {
    Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    h.recordValueWithCount(latencyUs, 100 - refused);
    if (refused > 0) {
      h.recordValueWithCount(100, refused);
    }
    long ok = 100 - refused;
    Map<String, Long> answers = defaults == 0 ? Map.of("m / tier 0", ok)
        : Map.of("m / tier 0", ok - defaults, "default (deadline)", defaults);
    Map<Integer, Long> statuses = refused == 0 ? Map.of(200, ok) : Map.of(200, ok, 503, refused);
    return new LoadGenerator.Outcome(AT_100, 100, ok, refused, 0, ok, h, answers, statuses, 0,
        lateSends, lateSends * 7_000, 12, 0);
  }

  @Test
  void a_summary_row_gives_the_median_and_the_range_of_each_figure() {
    List<Measurement> runs = List.of(
        new Measurement("relay", 100, 1, outcome(1200, 0, 0, 0), new BrokerRequests.Count(900, 300)),
        new Measurement("relay", 100, 2, outcome(1000, 2, 0, 3), new BrokerRequests.Count(1000, 400)),
        new Measurement("relay", 100, 3, outcome(2000, 1, 4, 0), new BrokerRequests.Count(1100, 500)));
    String table = BenchReport.summaryTable("Relay", "target req/s", List.of(new BenchReport.Group("100", runs)));
    assertThat(table).startsWith("### Relay\n\n| target req/s | runs |");
    String row = table.lines().filter(l -> l.startsWith("| 100 |")).findFirst().orElseThrow();
    // p50: 1.2, 1.0, 2.0 ms -> median 1.2 (1.0-2.0); defaults 0, 2, 1 % -> 1 (0-2); broker 12, 14, 16 per request.
    assertThat(row).contains("| 1.20 (1.00-2.00) |");
    assertThat(row).contains("| 1.00 (0.00-2.00) |");
    assertThat(row).contains("| 14.0 (12.0-16.0) |");
    // Not 200: 0, 0, 4 refused; late sends: the largest count, with the largest lag.
    assertThat(row).contains("| 0 (0-4) |");
    assertThat(row).contains("| 3 (21.0) |");
    assertThat(row).contains("| 12 / 64 |");
    // No server counts for a relay.
    assertThat(row).endsWith("| n/a |");
  }

  @Test
  void the_servers_late_answers_are_summed_over_the_repetitions() {
    List<Measurement> runs = List.of(
        new Measurement("full", 100, 1, outcome(1200, 0, 0, 0), null, new ServerLateness.Count(4, 1)),
        new Measurement("full", 100, 2, outcome(1000, 0, 0, 0), null, new ServerLateness.Count(3, 0)));
    String row = BenchReport.summaryTable("Full", "rate", List.of(new BenchReport.Group("100", runs))).lines()
        .filter(l -> l.startsWith("| 100 |")).findFirst().orElseThrow();
    assertThat(row).endsWith("| 7 / 1 |");
    assertThat(BenchReport.measurementsTable(runs)).contains("| 4 / 1 |").contains("| 3 / 0 |");
  }

  @Test
  void a_measurement_without_broker_counts_shows_n_a() {
    Measurement m = new Measurement("remote", 100, 1, outcome(500, 0, 0, 0), null);
    assertThat(m.brokerPerRequest()).isNaN();
    assertThat(BenchReport.summaryTable("Remote", "rate", List.of(new BenchReport.Group("100", List.of(m)))))
        .contains("| n/a |");
    assertThat(BenchReport.measurementsTable(List.of(m))).contains("| 1 | remote | 100 | 1 |").contains("| n/a |")
        .contains("200: 100");
  }

  @Test
  void the_flood_table_counts_every_status_and_the_answers_after_it() {
    Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    h.recordValueWithCount(40_000, 60);
    h.recordValueWithCount(2_000, 40);
    FloodGenerator.Settings fs = new FloodGenerator.Settings("http://127.0.0.1:1", io.vertx.core.http.HttpMethod.POST,
        "/v2/models/p/infer", List.of("{}"), 256, 1_000, 50);
    FloodGenerator.Outcome flood = new FloodGenerator.Outcome(fs, 103, Map.of(200, 60L, 503, 30L, 429, 8L, 500, 2L),
        3, h, Map.of("m / tier 0", 50L, "default (deadline)", 10L), 0, 100);
    String table = BenchReport.floodTable(List.of(new BenchReport.FloodRun(1, flood, outcome(500, 0, 0, 0),
        new ServerLateness.Count(9, 2))));
    String row = table.lines().filter(l -> l.startsWith("| 1 |")).findFirst().orElseThrow();
    // runs, answers/s, 200, 429, 503, other, connection errors
    assertThat(row).startsWith("| 1 | 100 | 60 | 8 | 30 | 2 | 3 |");
    assertThat(flood.defaultShareOf200()).isEqualTo(10.0 / 60);
    assertThat(table).contains("| 1 | 200: 60; 429: 8; 500: 2; 503: 30 | 3 | 9 / 2 |");
  }
}
