package dev.rendezvous.bench;

import dev.rendezvous.embedded.EmbeddedSystem;
import dev.rendezvous.kafka.EmbeddedKafka;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.schedule.ScheduleLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole benchmark in one run, on one broker and one machine with the same inputs: the transport limit (a
 * bare three-hop relay), the serving limit (the champion called directly in a Vert.x handler) and the full
 * rendezvous at stepped rates; then the full rendezvous with the champion slowed, with it stopped, and with 1
 * to N models at a fixed rate.
 */
public final class BenchSuite {

  private static final Logger LOG = LoggerFactory.getLogger(BenchSuite.class);

  /**
   * @param root the repository root (schedules, runner configurations, models)
   * @param rates stepped rates, requests per second; stepping stops after the first rate at which the full
   *     rendezvous keeps fewer than 99.9% of requests within the SLA
   * @param durationMs time per measurement
   * @param fixedRate the rate of the fault and model-count scenarios
   * @param maxModels the model-count scenario goes from 1 to this many serving models
   * @param out report directory
   */
  public record Settings(Path root, List<Double> rates, long durationMs, double fixedRate, int maxModels,
      int connections, Path out) {}

  private BenchSuite() {}

  public static Path run(Settings s, List<String> bodies) throws Exception {
    Path data = Files.createTempDirectory("rdv-bench");
    Path schedules = Files.createDirectories(data.resolve("schedules"));
    String demoSchedule = Files.readString(s.root().resolve("schedules/breast-cancer.yaml"));
    var demo = ScheduleLoader.parse(demoSchedule, "breast-cancer.yaml");
    double slaMs = demo.deadlineMs();
    List<RunnerConfig> demoRunners = EmbeddedSystem.loadRunners(List.of(s.root().resolve("model-runners/config"),
        s.root().resolve("canary/config")));
    StringBuilder body = new StringBuilder();
    List<SvgPlot.Line> lines = new ArrayList<>();
    try (EmbeddedKafka broker = EmbeddedKafka.start(data.resolve("kafka"), 0)) {
      List<LoadGenerator.Outcome> relay = new ArrayList<>();
      List<LoadGenerator.Outcome> direct = new ArrayList<>();
      List<LoadGenerator.Outcome> full = new ArrayList<>();
      try (RelayBaseline relaySystem = RelayBaseline.start(broker.bootstrapServers(), 4);
          DirectOnnxServer directSystem = DirectOnnxServer.start(
              s.root().resolve("model-runners/models/breast-cancer/bc-mlp-2.onnx"), demo.inputs());
          EmbeddedSystem fullSystem = start(broker, schedules, "bench-full", demoSchedule, demoRunners)) {
        // A young JVM spends a core on compiling (the broker, the clients, our code) for its first minute or
        // so; every system gets the same steady load first, so that the steps measure compiled code.
        warmUp(relaySystem.url(), "bench-relay", bodies, s, slaMs, 15_000);
        warmUp(directSystem.url(), "breast-cancer", bodies, s, slaMs, 15_000);
        warmUp(fullSystem.url(), "bench-full", bodies, s, slaMs, 15_000);
        for (double rate : s.rates()) {
          relay.add(measure("relay", relaySystem.url(), "bench-relay", bodies, rate, s, slaMs));
          direct.add(measure("direct", directSystem.url(), "breast-cancer", bodies, rate, s, slaMs));
          LoadGenerator.Outcome o = measure("rendezvous", fullSystem.url(), "bench-full", bodies, rate, s, slaMs);
          full.add(o);
          if (o.slaAttainment() < 0.999) {
            break;
          }
        }
      }
      body.append("## Steady rates\n\nEach rate is run against the three systems in turn, same inputs (the 114 "
          + "held-out rows of the demo data set, one row per request), open loop.\n\n");
      body.append(BenchReport.table("Transport limit: bare relay, HTTP + three topic hops", relay));
      body.append(BenchReport.table("Serving limit: champion (bc-mlp) in a plain Vert.x handler", direct));
      body.append(BenchReport.table("Full rendezvous: 3 serving models, canary, schedule", full));
      body.append(ratios(relay, direct, full));
      lines.add(new SvgPlot.Line("relay p50", "#1f77b4", "4 3", points(relay, 50)));
      lines.add(new SvgPlot.Line("relay p99", "#1f77b4", null, points(relay, 99)));
      lines.add(new SvgPlot.Line("direct p50", "#2ca02c", "4 3", points(direct, 50)));
      lines.add(new SvgPlot.Line("direct p99", "#2ca02c", null, points(direct, 99)));
      lines.add(new SvgPlot.Line("rendezvous p50", "#d62728", "4 3", points(full, 50)));
      lines.add(new SvgPlot.Line("rendezvous p99", "#d62728", null, points(full, 99)));

      // Champion slowed past its tier: a fixed 30 ms (its tier ends at 25 ms) plus an exponential tail.
      List<RunnerConfig> slowed = demoRunners.stream()
          .map(r -> r.modelId().equals("bc-mlp") ? r.withFaultDelay(30, 10) : r).toList();
      List<RunnerConfig> stopped = demoRunners.stream().filter(r -> !r.modelId().equals("bc-mlp")).toList();
      List<LoadGenerator.Outcome> faults = new ArrayList<>();
      try (EmbeddedSystem sys = start(broker, schedules, "bench-slowed", demoSchedule, slowed)) {
        warmUp(sys.url(), "bench-slowed", bodies, s, slaMs, 8_000);
        faults.add(measure("champion slowed", sys.url(), "bench-slowed", bodies, s.fixedRate(), s, slaMs));
      }
      try (EmbeddedSystem sys = start(broker, schedules, "bench-stopped", demoSchedule, stopped)) {
        warmUp(sys.url(), "bench-stopped", bodies, s, slaMs, 8_000);
        faults.add(measure("champion stopped", sys.url(), "bench-stopped", bodies, s.fixedRate(), s, slaMs));
      }
      body.append(String.format(Locale.ROOT, "## Faults at %.0f req/s%n%nFirst row: bc-mlp slowed by 30 ms + an "
          + "exponential delay with mean 10 ms per batch (fault injection in its runner configuration). Second row: "
          + "bc-mlp not running. SLA: %.0f ms (the schedule's deadline); within deadline + 5 ms: see max.%n%n",
          s.fixedRate(), slaMs));
      body.append(BenchReport.table("Champion slowed, then stopped", faults));

      List<LoadGenerator.Outcome> models = new ArrayList<>();
      RunnerConfig template = demoRunners.stream().filter(r -> r.modelId().equals("bc-logreg")).findFirst()
          .orElseThrow();
      for (int n = 1; n <= s.maxModels(); n++) {
        String problem = "bench-models-" + n;
        List<RunnerConfig> runners = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
          runners.add(template.withModelId("m" + i));
        }
        String schedule = demoSchedule.replace("accept: [bc-mlp]", "accept: [m1]")
            .replace("accept: [bc-mlp, bc-gbt]", "accept: [m1, m2]");
        try (EmbeddedSystem sys = start(broker, schedules, problem, schedule, runners)) {
          warmUp(sys.url(), problem, bodies, s, slaMs, 8_000);
          models.add(measure(n + " models", sys.url(), problem, bodies, s.fixedRate(), s, slaMs));
        }
      }
      body.append(String.format(Locale.ROOT, "## 1 to %d models at %.0f req/s%n%nn copies of bc-logreg under ids "
          + "m1..mn, each with its own consumer group (so every one scores every request); m1 is the champion.%n%n",
          s.maxModels(), s.fixedRate()));
      StringBuilder t = new StringBuilder(BenchReport.table("Model count", models));
      body.append(t);
      if (!models.isEmpty()) {
        double first = models.get(0).percentileMs(99);
        double last = models.get(models.size() - 1).percentileMs(99);
        body.append(String.format(Locale.ROOT, "p99 with %d models / p99 with 1 model: %.2f%n%n", models.size(),
            last / first));
      }
    }
    String stamp = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC)
        .format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Files.createDirectories(s.out());
    Path svg = s.out().resolve("suite-" + stamp + ".svg");
    Files.writeString(svg, SvgPlot.render("Latency against rate (log-log)", lines));
    body.append("![latency against rate](").append(svg.getFileName()).append(")\n");
    String settings = String.format(Locale.ROOT, "- Rates: %s req/s, %d s each; fixed rate %.0f req/s; "
        + "%d HTTP connections; open loop, latency from each request's due time%n- Schedule: "
        + "schedules/breast-cancer.yaml (deadline %.0f ms = the SLA)%n", s.rates(), s.durationMs() / 1000,
        s.fixedRate(), s.connections(), slaMs);
    return BenchReport.write(s.out(), "suite", "Benchmark: rendezvous against its limits", settings, body.toString());
  }

  private static EmbeddedSystem start(EmbeddedKafka broker, Path schedules, String problem, String scheduleText,
      List<RunnerConfig> runners) throws Exception {
    Path dir = Files.createDirectories(schedules.resolve(problem));
    Files.writeString(dir.resolve(problem + ".yaml"),
        scheduleText.replaceFirst("(?m)^problem: .*$", "problem: " + problem));
    List<RunnerConfig> own = runners.stream().map(r -> r.withProblem(problem)).toList();
    return EmbeddedSystem.start(new EmbeddedSystem.Options(schedules.resolve(problem + "-data"), dir, own,
        "127.0.0.1", 0, broker.bootstrapServers(), 4, true, 500));
  }

  /** Steady load at 250 req/s, not recorded. */
  private static void warmUp(String url, String problem, List<String> bodies, Settings s, double slaMs, long ms)
      throws Exception {
    LoadGenerator.run(new LoadGenerator.Settings(url, problem, bodies, 250, ms, slaMs, s.connections()));
  }

  private static LoadGenerator.Outcome measure(String name, String url, String problem, List<String> bodies,
      double rate, Settings s, double slaMs) throws Exception {
    // A short run first so that each system meets the rate with compiled code.
    LoadGenerator.run(new LoadGenerator.Settings(url, problem, bodies, Math.min(rate, 1000), 2_000, slaMs,
        s.connections()));
    LoadGenerator.Outcome o = LoadGenerator.run(new LoadGenerator.Settings(url, problem, bodies, rate,
        s.durationMs(), slaMs, s.connections()));
    LOG.info("{} at {} req/s: p50 {} ms, p99 {} ms, SLA {}%, errors {}", name, rate, o.percentileMs(50),
        o.percentileMs(99), String.format(Locale.ROOT, "%.3f", o.slaAttainment() * 100), o.errors());
    return o;
  }

  private static List<double[]> points(List<LoadGenerator.Outcome> outcomes, double percentile) {
    return outcomes.stream().map(o -> new double[] {o.settings().rate(), o.percentileMs(percentile)}).toList();
  }

  private static String ratios(List<LoadGenerator.Outcome> relay, List<LoadGenerator.Outcome> direct,
      List<LoadGenerator.Outcome> full) {
    StringBuilder b = new StringBuilder("### Ratios against the limits (rendezvous / limit, same rate, same run)\n\n"
        + "| rate | p50 / relay | p99 / relay | p50 / direct | p99 / direct |\n|---|---|---|---|---|\n");
    for (int i = 0; i < full.size(); i++) {
      LoadGenerator.Outcome f = full.get(i);
      b.append(String.format(Locale.ROOT, "| %.0f | %.2f | %.2f | %.2f | %.2f |%n", f.settings().rate(),
          f.percentileMs(50) / relay.get(i).percentileMs(50), f.percentileMs(99) / relay.get(i).percentileMs(99),
          f.percentileMs(50) / direct.get(i).percentileMs(50), f.percentileMs(99) / direct.get(i).percentileMs(99)));
    }
    return b.append('\n').toString();
  }
}
