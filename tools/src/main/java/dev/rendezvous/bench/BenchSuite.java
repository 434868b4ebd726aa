package dev.rendezvous.bench;

import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.runtime.JitWarmUp;
import dev.rendezvous.schedule.ScheduleLoader;
import io.vertx.core.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole benchmark in one run, on one broker and one machine with the same inputs. After a warm-up that lasts
 * until the JIT compiler is quiet: the transport limit (a bare three-hop relay), the design limit (a relay with
 * the full system's fan-out and no work), the serving limit (the champion called directly in a Vert.x handler)
 * and the full rendezvous at stepped rates, each measurement repeated with the systems alternating; then, on the
 * full rendezvous, 48 pollers of {@code /metrics} beside a steady scoring load, and a closed-loop flood far past
 * capacity; then the champion slowed, the champion stopped, and 1 to N models at a fixed rate. Every figure is
 * reported as the median of its repetitions with their range.
 */
public final class BenchSuite {

  private static final Logger LOG = LoggerFactory.getLogger(BenchSuite.class);

  /** Rate of the scoring load right after each flood, for a few seconds: are normal answers back? */
  static final double AFTER_FLOOD_RATE = 50;
  static final long AFTER_FLOOD_MS = 2_000;
  /** Requests each full system sends itself through the whole path before it is ready (quick mode: fewer). */
  static final int STARTUP_REQUESTS = 500;
  static final int QUICK_STARTUP_REQUESTS = 50;

  /**
   * @param root the repository root (schedules, runner configurations, models)
   * @param rates stepped rates, requests per second; every system steps until the full rendezvous misses a rate
   *     (fewer than 99.9% of requests within the SLA or more than 0.5% defaults, medians of the repetitions),
   *     then the bare relay alone until it misses one too
   * @param durationMs time per measurement
   * @param fixedRate the rate of the fault and model-count scenarios
   * @param maxModels the model-count scenario goes from 1 to this many serving models
   * @param connections least HTTP connections of the open-loop generator; at a rate r it may open up to
   *     max(connections, r / 2), at most {@value #MAX_CONNECTIONS}, so that it is not the one that caps the rate
   * @param out report directory
   * @param repetitions how many times each measurement is taken, systems alternating
   * @param warmUp warm-up of the four steady-rate systems, together, before any measurement
   * @param scenarioWarmUp warm-up of each system started later (faults, model counts)
   * @param warmUpRate the warm-up's load, requests per second
   * @param leadInMs a short run at the measured rate right before each measurement, not recorded
   * @param shape the fan-out relay's shape (0 runners: as many as the demo problem has), or null for the embedded
   *     default's
   * @param floodWorkers concurrent connections of the flood, each sending as soon as it is answered
   * @param floodMs length of each flood
   * @param metricsPollers concurrent pollers of {@code /metrics} in the /metrics flood
   * @param metricsRate scoring rate beside them
   * @param metricsMs length of each /metrics flood
   * @param quick whether these are the short smoke-test settings
   * @param generatorProcess whether the load comes from a JVM of its own ({@link GeneratorProcess}) rather than
   *     from the JVM of the systems measured
   */
  public record Settings(Path root, List<Double> rates, long durationMs, double fixedRate, int maxModels,
      int connections, Path out, int repetitions, JitWarmUp.Policy warmUp, JitWarmUp.Policy scenarioWarmUp,
      double warmUpRate, long leadInMs, FanOutRelay.Shape shape, int floodWorkers, long floodMs, int metricsPollers,
      double metricsRate, long metricsMs, boolean quick, boolean generatorProcess) {

    /** Short settings for a smoke run: one repetition of a few seconds each, 3 s of fixed warm-up. */
    public static Settings quick(Path root, Path out) {
      return new Settings(root, List.of(100.0), 2_000, 100, 2, 16, out, 1,
          new JitWarmUp.Policy(3_000, 0, 3_000, 1_000, 20, 1_000),
          new JitWarmUp.Policy(1_000, 0, 1_000, 1_000, 20, 1_000), 100, 500, null, 32, 2_000, 48, 100, 2_000,
          true, true);
    }
  }

  /** Most connections the open-loop generator opens at any rate. */
  static final int MAX_CONNECTIONS = 4096;

  /**
   * A system under measurement: its short name, its URL, the problem to ask for, and whether it is a rendezvous
   * (which counts its own late answers on {@code /metrics}; the relays and the direct server have no such page).
   */
  record Target(String name, String url, String problem, boolean rendezvous) {}

  /** A system started for one scenario: its name, its problem, its schedule's text and its runners. */
  record Scenario(String name, String problem, String schedule, List<RunnerConfig> runners) {}

  private BenchSuite() {}

  static int connectionsFor(double rate, int least) {
    return (int) Math.min(MAX_CONNECTIONS, Math.max(least, Math.ceil(rate / 2)));
  }

  /**
   * Starts a full rendezvous system for a measurement: the launcher's embedded system, which the command that
   * runs the suite provides (the benchmark tools do not depend on the launcher).
   */
  @FunctionalInterface
  public interface Systems {
    /**
     * Starts a system that serves the schedules of {@code schedulesDir} with these runners on the broker at
     * {@code bootstrapServers}, keeping its data under {@code dataDir}, warmed up with this many requests.
     */
    Running start(Path dataDir, Path schedulesDir, List<RunnerConfig> runners, String bootstrapServers,
        int warmUpRequests) throws Exception;
  }

  /** A started system: where it serves, and how it stops. */
  public record Running(String url, AutoCloseable stop) implements AutoCloseable {
    @Override
    public void close() throws Exception {
      stop.close();
    }
  }

  public static Path run(Settings s, List<String> bodies, Systems systems) throws Exception {
    Path data = Files.createTempDirectory("rdv-bench");
    Path schedules = Files.createDirectories(data.resolve("schedules"));
    String demoSchedule = Files.readString(s.root().resolve("schedules/breast-cancer.yaml"));
    var demo = ScheduleLoader.parse(demoSchedule, "breast-cancer.yaml");
    double slaMs = demo.deadlineMs();
    List<RunnerConfig> demoRunners = RunnerConfig.loadAll(List.of(s.root().resolve("model-runners/config"),
        s.root().resolve("canary/config"))).stream().filter(r -> r.problem().equals(demo.problem())).toList();
    FanOutRelay.Shape shape = s.shape() != null ? s.shape().withRunners(demoRunners.size())
        : FanOutRelay.Shape.embeddedDefault(demoRunners.size());
    StringBuilder body = new StringBuilder();
    StringBuilder notes = new StringBuilder();
    List<Measurement> all = new ArrayList<>();
    List<SvgPlot.Line> lines = new ArrayList<>();
    try (Generators gen = s.generatorProcess() ? GeneratorProcess.start() : Generators.inProcess();
        EmbeddedKafka broker = EmbeddedKafka.start(data.resolve("kafka"), 0)) {
      List<Target> targets = new ArrayList<>();
      List<Measurement> steady = new ArrayList<>();
      List<BenchReport.FloodRun> floods = new ArrayList<>();
      List<BenchReport.MetricsFloodRun> metricsFloods = new ArrayList<>();
      try (RelayBaseline relaySystem = RelayBaseline.start(broker.bootstrapServers(), 4);
          FanOutRelay fanOutSystem = FanOutRelay.start(broker.bootstrapServers(), 4, shape);
          DirectOnnxServer directSystem = DirectOnnxServer.start(
              s.root().resolve("model-runners/models/breast-cancer/bc-mlp-2.onnx"), demo.inputs());
          Running fullSystem = start(systems, broker, schedules, "bench-full", demoSchedule, demoRunners, s)) {
        targets.add(new Target("bare relay", relaySystem.url(), "bench-relay", false));
        targets.add(new Target("fan-out relay", fanOutSystem.url(), "bench-fanout", false));
        targets.add(new Target("direct", directSystem.url(), "breast-cancer", false));
        targets.add(new Target("rendezvous", fullSystem.url(), "bench-full", true));
        Target full = targets.get(3);
        // A young JVM spends a core compiling (the broker, the clients, our code); every system gets the same
        // load in turn until the compiler is quiet, so that the measurements see compiled code.
        int[] turn = {0};
        JitWarmUp.Result warm = JitWarmUp.run(s.warmUp(), ms -> {
          Target t = targets.get(turn[0]++ % targets.size());
          gen.load(new LoadGenerator.Settings(t.url(), t.problem(), bodies, s.warmUpRate(), ms, slaMs,
              connectionsFor(s.warmUpRate(), s.connections())));
        });
        LOG.info("warm-up: {}", warm.describe());
        notes.append("- Warm-up used: ").append(warm.describe()).append(", the four systems in turn at ")
            .append(fmt(s.warmUpRate())).append(" req/s\n");
        notes.append("- Broker requests with no load (idle consumers of every system, all counted in each "
            + "measurement): ").append(idleBrokerRate(s.quick() ? 1_000 : 2_000)).append('\n');

        // Every system steps until the full rendezvous fails a rate; the bare relay, the reference of the
        // capacity target, then steps on alone until it fails too, so that both capacities are known.
        List<Target> stepping = new ArrayList<>(targets);
        for (double rate : s.rates()) {
          if (stepping.isEmpty()) {
            break;
          }
          List<Measurement> atRate = new ArrayList<>();
          for (RunPlan.Step<Target> step : RunPlan.alternating(stepping, s.repetitions())) {
            Target t = step.system();
            atRate.add(measure(gen, t, bodies, rate, step.repetition(), s, slaMs));
          }
          steady.addAll(atRate);
          for (Target t : List.copyOf(stepping)) {
            if (!holds(atRate, t.name())) {
              stepping.remove(t);
              if (t == full) {
                stepping.removeIf(other -> !other.name().equals("bare relay"));
              }
            }
          }
        }
        all.addAll(steady);

        for (int r = 1; r <= s.repetitions(); r++) {
          metricsFloods.add(metricsFlood(gen, full, bodies, r, s, slaMs));
        }
        for (int r = 1; r <= s.repetitions(); r++) {
          floods.add(flood(gen, full, bodies, r, s, slaMs));
        }
      }

      body.append("## Steady rates\n\nAt each rate every system is measured in turn, and the round repeated "
          + s.repetitions() + " time(s) (A B C D A B C D ...); same inputs (the 114 held-out rows of the demo data "
          + "set, one row per request), open loop. Each cell: median of the runs (min-max).\n\n");
      String[][] titles = {
          {"bare relay", "Transport limit: bare relay, HTTP + three topic hops"},
          {"fan-out relay", "Design limit: fan-out relay, the full system's topic fan-out and no work ("
              + shape.describe() + ")"},
          {"direct", "Serving limit: champion (bc-mlp) in a plain Vert.x handler"},
          {"rendezvous", "Full rendezvous: " + demoRunners.size() + " runners (canary included), decoy, monitor, "
              + "schedule"}};
      for (String[] t : titles) {
        body.append(BenchReport.summaryTable(t[1], "target req/s", byRate(steady, t[0])));
      }
      body.append(ratios(steady));
      body.append(capacities(steady, s.rates()));
      String[][] colours = {{"bare relay", "#1f77b4"}, {"fan-out relay", "#9467bd"}, {"direct", "#2ca02c"},
          {"rendezvous", "#d62728"}};
      for (String[] c : colours) {
        lines.add(new SvgPlot.Line(c[0] + " p50", c[1], "4 3", medians(steady, c[0], 50)));
        lines.add(new SvgPlot.Line(c[0] + " p99", c[1], null, medians(steady, c[0], 99)));
      }

      body.append(String.format(Locale.ROOT, "## /metrics flood%n%n%d workers poll `/metrics` of the full rendezvous "
          + "back to back (closed loop) while %s req/s of scoring run open loop, %.0f s per run. The share of "
          + "defaults is the figure to watch: scrapes must not starve the request path.%n%n", s.metricsPollers(),
          fmt(s.metricsRate()), s.metricsMs() / 1000.0));
      body.append(BenchReport.metricsFloodTable(metricsFloods));
      body.append(String.format(Locale.ROOT, "## Flood%n%n%d workers, each on its own connection, send to the "
          + "full rendezvous as fast as they are answered (no rate cap, like `hey -c %d`), %.0f s per run. Latency "
          + "of every answer, refusals included, from its send time. Then %s req/s for %.0f s, open loop: are "
          + "normal answers back (first timely model answer: its due time after the flood ended)?%n%n",
          s.floodWorkers(), s.floodWorkers(), s.floodMs() / 1000.0, fmt(AFTER_FLOOD_RATE),
          (s.quick() ? AFTER_FLOOD_MS / 2 : AFTER_FLOOD_MS) / 1000.0));
      body.append(BenchReport.floodTable(floods));

      // Scenario systems: started, warmed, measured and closed one after the other, the scenarios alternating
      // across repetitions; each repetition gets a problem of its own so that no committed offset carries over.
      List<RunnerConfig> slowed = demoRunners.stream()
          .map(r -> r.modelId().equals("bc-mlp") ? r.withFaultDelay(30, 10) : r).toList();
      List<RunnerConfig> stopped = demoRunners.stream().filter(r -> !r.modelId().equals("bc-mlp")).toList();
      List<Scenario> faultScenarios = List.of(
          new Scenario("champion slowed", "bench-slowed", demoSchedule, slowed),
          new Scenario("champion stopped", "bench-stopped", demoSchedule, stopped));
      List<Measurement> faults = runScenarios(gen, systems, broker, schedules, faultScenarios, bodies, s, slaMs,
          notes);
      all.addAll(faults);
      body.append(String.format(Locale.ROOT, "## Faults at %s req/s%n%nFirst row: bc-mlp slowed by 30 ms + an "
          + "exponential delay with mean 10 ms per batch (fault injection in its runner configuration). Second row: "
          + "bc-mlp not running. SLA: %.0f ms (the schedule's deadline). Every admitted request is to be "
          + "answered by its deadline + 5 ms: the server's count of answers past it is the last column (max also "
          + "holds the generator's late sends).%n%n",
          fmt(s.fixedRate()), slaMs));
      body.append(BenchReport.summaryTable("Champion slowed, then stopped", "scenario",
          faultScenarios.stream().map(f -> group(f.name(), faults, f.name())).toList()));

      RunnerConfig template = demoRunners.stream().filter(r -> r.modelId().equals("bc-logreg")).findFirst()
          .orElseThrow();
      List<Scenario> modelScenarios = new ArrayList<>();
      for (int n = 1; n <= s.maxModels(); n++) {
        List<RunnerConfig> runners = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
          runners.add(template.withModelId("m" + i));
        }
        String schedule = demoSchedule.replace("accept: [bc-mlp]", "accept: [m1]")
            .replace("accept: [bc-mlp, bc-gbt]", "accept: [m1, m2]");
        modelScenarios.add(new Scenario(n + (n == 1 ? " model" : " models"), "bench-models-" + n, schedule, runners));
      }
      List<Measurement> models = runScenarios(gen, systems, broker, schedules, modelScenarios, bodies, s, slaMs,
          notes);
      all.addAll(models);
      body.append(String.format(Locale.ROOT, "## 1 to %d models at %s req/s%n%nn copies of bc-logreg under ids "
          + "m1..mn, hosted as `up` hosts a problem's models: one runner host, one input consumer feeding every "
          + "model, one score producer; every model scores every request; m1 is the champion.%n%n",
          s.maxModels(), fmt(s.fixedRate())));
      List<BenchReport.Group> modelGroups = modelScenarios.stream().map(m -> group(m.name(), models, m.name()))
          .toList();
      body.append(BenchReport.summaryTable("Model count", "models", modelGroups));
      if (modelGroups.size() > 1) {
        double first = BenchReport.spread(modelGroups.get(0).runs(), m -> m.outcome().percentileMs(99)).median();
        double last = BenchReport.spread(modelGroups.get(modelGroups.size() - 1).runs(),
            m -> m.outcome().percentileMs(99)).median();
        body.append(String.format(Locale.ROOT, "Median p99 with %d models / median p99 with 1 model: %.2f%n%n",
            modelGroups.size(), last / first));
      }
    }
    body.append("## Every measurement, in the order taken\n\n").append(BenchReport.measurementsTable(all));
    String stamp = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC)
        .format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Files.createDirectories(s.out());
    Path svg = s.out().resolve("suite-" + stamp + ".svg");
    Files.writeString(svg, SvgPlot.render("Latency against rate, medians (log-log)", lines));
    body.append("![latency against rate](").append(svg.getFileName()).append(")\n");
    return BenchReport.write(s.out(), "suite", "Benchmark: rendezvous against its limits",
        settings(s, slaMs, shape) + notes, body.toString());
  }

  static String settings(Settings s, double slaMs, FanOutRelay.Shape shape) {
    return String.format(Locale.ROOT, "- Mode: %s%n- Load generator: %s%n"
            + "- Rates: %s req/s, %.1f s per measurement after a %.1f s lead-in "
            + "at the same rate; %d repetition(s), systems alternating; fixed rate %s req/s; 1 to %d models%n"
            + "- Open loop, latency from each request's due time; HTTP connections: at least %d, up to "
            + "max(%d, rate / 2) (at most %d); a request sent more than %d ms after due counts as a late send%n"
            + "- Warm-up: %s, slices of %.1f s at %s req/s; scenario systems: %s%n- Fan-out relay: %s%n"
            + "- /metrics flood: %d pollers beside %s req/s for %.1f s; flood: %d workers for %.1f s%n"
            + "- Broker requests: Fetch + Produce (kafka.network RequestMetrics) of the embedded broker%n"
            + "- Schedule: schedules/breast-cancer.yaml (deadline %.0f ms = the SLA)%n",
        s.quick() ? "quick (smoke test: the numbers are not a measurement)" : "full",
        s.generatorProcess() ? "a JVM of its own (a child process), as a user's client"
            : "in the JVM of the systems measured (--generator-process false)", s.rates(), s.durationMs() / 1000.0,
        s.leadInMs() / 1000.0, s.repetitions(), fmt(s.fixedRate()), s.maxModels(), s.connections(), s.connections(),
        MAX_CONNECTIONS, LoadGenerator.LATE_SEND_MS, s.warmUp().describe(), s.warmUp().sliceMs() / 1000.0,
        fmt(s.warmUpRate()), s.scenarioWarmUp().describe(), shape.describe(), s.metricsPollers(),
        fmt(s.metricsRate()), s.metricsMs() / 1000.0, s.floodWorkers(), s.floodMs() / 1000.0, slaMs);
  }

  private static List<Measurement> runScenarios(Generators gen, Systems systems, EmbeddedKafka broker,
      Path schedules, List<Scenario> scenarios, List<String> bodies, Settings s, double slaMs, StringBuilder notes)
      throws Exception {
    List<Measurement> out = new ArrayList<>();
    for (RunPlan.Step<Scenario> step : RunPlan.alternating(scenarios, s.repetitions())) {
      Scenario sc = step.system();
      String p = sc.problem() + "-r" + step.repetition();
      try (Running sys = start(systems, broker, schedules, p, sc.schedule(), sc.runners(), s)) {
        JitWarmUp.Result warm = JitWarmUp.run(s.scenarioWarmUp(), ms -> gen.load(new LoadGenerator.Settings(
            sys.url(), p, bodies, s.warmUpRate(), ms, slaMs, connectionsFor(s.warmUpRate(), s.connections()))));
        notes.append("- Warm-up of ").append(sc.name()).append(", run ").append(step.repetition()).append(": ")
            .append(warm.describe()).append('\n');
        out.add(measure(gen, new Target(sc.name(), sys.url(), p, true), bodies, s.fixedRate(), step.repetition(), s,
            slaMs));
      }
    }
    return out;
  }

  private static Running start(Systems systems, EmbeddedKafka broker, Path schedules, String problem, String scheduleText,
      List<RunnerConfig> runners, Settings s) throws Exception {
    Path dir = Files.createDirectories(schedules.resolve(problem));
    Files.writeString(dir.resolve(problem + ".yaml"),
        scheduleText.replaceFirst("(?m)^problem: .*$", "problem: " + problem));
    List<RunnerConfig> own = runners.stream().map(r -> r.withProblem(problem)).toList();
    return systems.start(schedules.resolve(problem + "-data"), dir, own, broker.bootstrapServers(),
        s.quick() ? QUICK_STARTUP_REQUESTS : STARTUP_REQUESTS);
  }

  private static Measurement measure(Generators gen, Target t, List<String> bodies, double rate, int repetition,
      Settings s, double slaMs) throws Exception {
    String name = t.name();
    String url = t.url();
    String problem = t.problem();
    int connections = connectionsFor(rate, s.connections());
    if (s.leadInMs() > 0) {
      gen.load(new LoadGenerator.Settings(url, problem, bodies, rate, s.leadInMs(), slaMs, connections));
    }
    Optional<ServerLateness.Count> lateBefore = t.rendezvous() ? ServerLateness.read(url, problem)
        : Optional.empty();
    Optional<BrokerRequests.Count> before = BrokerRequests.read();
    LoadGenerator.Outcome o = gen.load(new LoadGenerator.Settings(url, problem, bodies, rate,
        s.durationMs(), slaMs, connections));
    Optional<BrokerRequests.Count> after = BrokerRequests.read();
    BrokerRequests.Count broker = before.isPresent() && after.isPresent() ? after.get().minus(before.get()) : null;
    Measurement m = new Measurement(name, rate, repetition, o, broker, lateSince(lateBefore, url, problem));
    LOG.info("{} at {} req/s, run {}: p50 {} ms, p99 {} ms, SLA {}%, defaults {}%, broker/HTTP {}, late sends {}, "
        + "server: {}", name, rate, repetition, o.percentileMs(50), o.percentileMs(99),
        String.format(Locale.ROOT, "%.3f", o.slaAttainment() * 100),
        String.format(Locale.ROOT, "%.3f", o.defaultShare() * 100),
        String.format(Locale.ROOT, "%.1f", m.brokerPerRequest()), o.lateSends(), m.lateness());
    return m;
  }

  private static BenchReport.MetricsFloodRun metricsFlood(Generators gen, Target full, List<String> bodies,
      int repetition, Settings s, double slaMs) throws Exception {
    CompletableFuture<FloodGenerator.Outcome> pollers = CompletableFuture.supplyAsync(() -> {
      try {
        return gen.flood(new FloodGenerator.Settings(full.url(), HttpMethod.GET, "/metrics", List.of(),
            s.metricsPollers(), s.metricsMs(), slaMs));
      } catch (Exception e) {
        throw new IllegalStateException("the /metrics pollers failed: " + e.getMessage(), e);
      }
    });
    LoadGenerator.Outcome scoring = gen.load(new LoadGenerator.Settings(full.url(), full.problem(), bodies,
        s.metricsRate(), s.metricsMs(), slaMs, connectionsFor(s.metricsRate(), s.connections())));
    FloodGenerator.Outcome p = pollers.get();
    LOG.info("/metrics flood run {}: defaults {}%, SLA {}%, {} scrapes/s", repetition,
        String.format(Locale.ROOT, "%.2f", scoring.defaultShare() * 100),
        String.format(Locale.ROOT, "%.2f", scoring.slaAttainment() * 100),
        String.format(Locale.ROOT, "%.1f", p.answersPerSecond()));
    return new BenchReport.MetricsFloodRun(repetition, scoring, p);
  }

  private static BenchReport.FloodRun flood(Generators gen, Target full, List<String> bodies, int repetition,
      Settings s, double slaMs) throws Exception {
    Optional<ServerLateness.Count> lateBefore = ServerLateness.read(full.url(), full.problem());
    FloodGenerator.Outcome f = gen.flood(new FloodGenerator.Settings(full.url(), HttpMethod.POST,
        "/v2/models/" + full.problem() + "/infer", bodies, s.floodWorkers(), s.floodMs(), slaMs));
    ServerLateness.Count late = lateSince(lateBefore, full.url(), full.problem());
    LoadGenerator.Outcome after = gen.load(new LoadGenerator.Settings(full.url(), full.problem(), bodies,
        AFTER_FLOOD_RATE, s.quick() ? AFTER_FLOOD_MS / 2 : AFTER_FLOOD_MS, slaMs, connectionsFor(AFTER_FLOOD_RATE, s.connections())));
    LOG.info("flood run {}: {} answers/s, statuses {}, connection errors {}, p99 {} ms, max {} ms, server: {}",
        repetition, String.format(Locale.ROOT, "%.0f", f.answersPerSecond()), f.statuses(), f.connectionErrors(),
        f.percentileMs(99), f.maxMs(), late);
    return new BenchReport.FloodRun(repetition, f, after, late);
  }

  /** The server's late answers since {@code before}, or null when it does not count them. */
  private static ServerLateness.Count lateSince(Optional<ServerLateness.Count> before, String url, String problem) {
    Optional<ServerLateness.Count> after = before.isPresent() ? ServerLateness.read(url, problem) : Optional.empty();
    return after.map(a -> a.minus(before.get())).orElse(null);
  }

  /** Broker requests per second over a while of no load, or "n/a". */
  private static String idleBrokerRate(long ms) throws InterruptedException {
    Optional<BrokerRequests.Count> before = BrokerRequests.read();
    long t0 = System.nanoTime();
    Thread.sleep(ms);
    Optional<BrokerRequests.Count> after = BrokerRequests.read();
    if (before.isEmpty() || after.isEmpty()) {
      return "n/a (no broker metrics in this JVM)";
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    return String.format(Locale.ROOT, "%.0f per second", after.get().minus(before.get()).total() / seconds);
  }

  private static List<BenchReport.Group> byRate(List<Measurement> all, String system) {
    return all.stream().filter(m -> m.system().equals(system)).map(Measurement::rate).distinct()
        .map(r -> new BenchReport.Group(fmt(r), all.stream()
            .filter(m -> m.system().equals(system) && m.rate() == r).toList()))
        .toList();
  }

  private static BenchReport.Group group(String label, List<Measurement> all, String system) {
    return new BenchReport.Group(label, all.stream().filter(m -> m.system().equals(system)).toList());
  }

  private static List<double[]> medians(List<Measurement> all, String system, double percentile) {
    return byRate(all, system).stream().map(g -> new double[] {g.runs().get(0).rate(),
        BenchReport.spread(g.runs(), m -> m.outcome().percentileMs(percentile)).median()}).toList();
  }

  /** Ratios of medians at each rate: the full rendezvous against each limit, and the fan-out against the bare relay. */
  static String ratios(List<Measurement> steady) {
    StringBuilder b = new StringBuilder("### Ratios of medians (same rate, same run)\n\n| rate | rendezvous p50 / "
        + "bare relay | rendezvous p99 / bare relay | rendezvous p50 / fan-out | rendezvous p99 / fan-out "
        + "| fan-out p99 / bare relay | rendezvous p99 / direct |\n|---|---|---|---|---|---|---|\n");
    for (BenchReport.Group g : byRate(steady, "rendezvous")) {
      double rate = g.runs().get(0).rate();
      double f50 = median(steady, "rendezvous", rate, 50);
      double f99 = median(steady, "rendezvous", rate, 99);
      double r50 = median(steady, "bare relay", rate, 50);
      double r99 = median(steady, "bare relay", rate, 99);
      double o50 = median(steady, "fan-out relay", rate, 50);
      double o99 = median(steady, "fan-out relay", rate, 99);
      double d99 = median(steady, "direct", rate, 99);
      b.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |%n", fmt(rate),
          f50 / r50, f99 / r99, f50 / o50, f99 / o99, o99 / r99, f99 / d99));
    }
    return b.append('\n').toString();
  }

  /** The capacity rule: at least 99.9% within the SLA and at most 0.5% defaults, medians of the repetitions. */
  static boolean holds(List<Measurement> atRate, String system) {
    List<Measurement> runs = atRate.stream().filter(m -> m.system().equals(system)).toList();
    return !runs.isEmpty()
        && Spread.of(runs.stream().map(m -> m.outcome().slaAttainment()).toList()).median() >= 0.999
        && Spread.of(runs.stream().map(m -> m.outcome().defaultShare()).toList()).median() <= 0.005;
  }

  /**
   * One system's capacity.
   *
   * @param held the highest stepped rate held with every lower one held too (0: none)
   * @param missed what ended the stepping: the first rate missed, or why the limit was not reached
   * @param reached whether a rate was missed, so that {@code held} is the limit and not a lower bound
   */
  record Capacity(double held, String missed, boolean reached) {

    static Capacity of(List<Measurement> steady, List<Double> rates, String system) {
      double held = 0;
      for (double rate : rates) {
        List<Measurement> atRate = steady.stream().filter(m -> m.system().equals(system) && m.rate() == rate)
            .toList();
        if (atRate.isEmpty()) {
          return new Capacity(held, "not reached (not measured from " + fmt(rate) + " on)", false);
        }
        if (!holds(atRate, system)) {
          return new Capacity(held, fmt(rate), true);
        }
        held = rate;
      }
      return new Capacity(held, "not reached", false);
    }
  }

  /** Each system's {@link Capacity} as a table, and the full rendezvous's over the bare relay's (the target). */
  static String capacities(List<Measurement> steady, List<Double> rates) {
    StringBuilder b = new StringBuilder("### Capacity\n\nThe highest stepped rate with at least 99.9% of requests "
        + "within the SLA and at most 0.5% defaults (medians), every lower rate held too.\n\n| system | capacity "
        + "req/s | first rate missed |\n|---|---|---|\n");
    Capacity bare = null;
    double full = 0;
    for (String system : List.of("bare relay", "fan-out relay", "direct", "rendezvous")) {
      Capacity c = Capacity.of(steady, rates, system);
      b.append(String.format(Locale.ROOT, "| %s | %s%s | %s |%n", system, c.reached() ? "" : ">= ", fmt(c.held()),
          c.missed()));
      if (system.equals("bare relay")) {
        bare = c;
      } else if (system.equals("rendezvous")) {
        full = c.held();
      }
    }
    b.append(String.format(Locale.ROOT, "%nFull rendezvous / bare relay: %s / %s = %.2f (target: at least 0.5)%s%n%n",
        fmt(full), fmt(bare.held()), bare.held() > 0 ? full / bare.held() : Double.NaN,
        bare.reached() ? "" : "; the bare relay's limit was not reached, so the true ratio is lower"));
    return b.toString();
  }

  private static double median(List<Measurement> all, String system, double rate, double percentile) {
    return BenchReport.spread(all.stream().filter(m -> m.system().equals(system) && m.rate() == rate).toList(),
        m -> m.outcome().percentileMs(percentile)).median();
  }

  static String fmt(double v) {
    return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%s", v);
  }
}
