package dev.rendezvous;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.auth.AdminToken;
import dev.rendezvous.bench.BenchReport;
import dev.rendezvous.bench.BenchSuite;
import dev.rendezvous.bench.BenchSuiteOptions;
import dev.rendezvous.bench.CodecTiming;
import dev.rendezvous.bench.LoadGenerator;
import dev.rendezvous.bench.OnnxTiming;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.Json;
import dev.rendezvous.decoy.ArchiveLayout;
import dev.rendezvous.decoy.TimeArg;
import dev.rendezvous.decoy.TrainingSetExport;
import dev.rendezvous.embedded.EmbeddedSystem;
import dev.rendezvous.process.BrokerCommand;
import dev.rendezvous.process.DecoyCommand;
import dev.rendezvous.process.MonitorCommand;
import dev.rendezvous.process.ProxyCommand;
import dev.rendezvous.process.RendezvousCommand;
import dev.rendezvous.process.RunnerCommand;
import dev.rendezvous.rollout.ScheduleCli;
import dev.rendezvous.runner.RunnerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code bin/rendezvous} command line. */
@Command(name = "rendezvous", mixinStandardHelpOptions = true, version = "rendezvous 0.1.0-SNAPSHOT",
    description = "Latency-tiered model serving over Apache Kafka.",
    // Everything in one process (up), or each component on its own (see docs/processes.md).
    subcommands = {Main.Up.class, ScheduleCli.class, Main.Export.class, Main.Replay.class, Main.Bench.class,
        BrokerCommand.class, ProxyCommand.class, RendezvousCommand.class, RunnerCommand.class, DecoyCommand.class,
        MonitorCommand.class, Main.Soak.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  @Command(name = "up", mixinStandardHelpOptions = true,
      description = "Start everything in one process: Kafka broker, rendezvous, model runners, canary and "
          + "the HTTP proxy. Stops cleanly on Ctrl-C.")
  static final class Up implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "8080", description = "HTTP port of the proxy (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1",
        description = "Address the proxy listens on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--schedules", defaultValue = "schedules",
        description = "Directory of schedule files, one per problem (default: ${DEFAULT-VALUE}).")
    Path schedules;

    @Option(names = "--data", defaultValue = "data",
        description = "Directory for the embedded broker's data and the decoy's archive (<data>/archive) "
            + "(default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--runners", split = ",", defaultValue = "model-runners/config,canary/config",
        description = "Directories of runner configurations, searched for *.yaml (default: ${DEFAULT-VALUE}).")
    List<Path> runners;

    @Option(names = "--bootstrap-servers",
        description = "Use this Kafka cluster instead of starting the embedded broker.")
    String bootstrapServers;

    @Option(names = "--partitions", defaultValue = "4",
        description = "Partitions of each topic created (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--proxy-instances", defaultValue = "${env:RDV_PROXY_INSTANCES:-0}",
        description = "Instances of the proxy serving the port, each on an event loop of its own with a results "
            + "partition of its own; 0 is one per available processor (env RDV_PROXY_INSTANCES; default: one per "
            + "processor).")
    int proxyInstances;

    @Option(names = "--grpc-port", defaultValue = "${env:RDV_GRPC_PORT:-8081}",
        description = "Port of the Open Inference Protocol over gRPC, 0 for any free one, -1 for none "
            + "(env RDV_GRPC_PORT; default: ${DEFAULT-VALUE}).")
    int grpcPort;

    @Option(names = "--warm-up", defaultValue = "200",
        description = "Zero-valued requests sent through the whole path per problem before reporting ready, "
            + "so the first real request runs compiled code (default: ${DEFAULT-VALUE}; 0 = none).")
    int warmUp;

    @Override
    public Integer call() throws Exception {
      EmbeddedSystem system = EmbeddedSystem.start(new EmbeddedSystem.Options(data, schedules,
          EmbeddedSystem.loadRunners(runners), host, port, bootstrapServers, partitions, true, warmUp)
          .withProxyInstances(proxyInstances).withGrpcPort(grpcPort));
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        System.err.println("Stopping...");
        try {
          system.close();
        } catch (Exception e) {
          System.err.println("error while stopping: " + e.getMessage());
        }
        stopped.countDown();
      }, "shutdown"));
      String url = (system.access().tls().isPresent() ? "https://" : "http://") + host + ":" + system.port();
      System.out.println("Rendezvous is up at " + url + " (problems: " + String.join(", ",
          system.schedules().problems()) + "). Try:");
      for (String problem : system.schedules().problems()) {
        System.out.println("  curl -s " + url + "/v2/models/" + problem);
      }
      if (system.grpcPort() >= 0) {
        System.out.println("Open Inference Protocol over gRPC (inference.GRPCInferenceService): " + host + ":"
            + system.grpcPort());
      }
      System.out.println("Metrics for Prometheus: " + url + "/metrics; live status page: " + url + "/ui/");
      System.out.println("Schedule changes and outcomes need the admin token: " + system.access().admin().file()
          .map(f -> "the file " + f).orElse("the one in " + AdminToken.ENV) + " (bin/rendezvous schedule finds it).");
      if (system.access().keys().required()) {
        System.out.println("Scoring needs a key of " + system.access().keys().file() + ".");
      }
      System.out.println("Press Ctrl-C to stop.");
      stopped.await();
      return 0;
    }
  }

  @Command(name = "bench", mixinStandardHelpOptions = true,
      description = "Measure end-to-end latency with an open-loop load generator (loopback only) and the "
          + "models' own inference time; writes a Markdown report.")
  static final class Bench implements Callable<Integer> {

    @Option(names = "--url", description = "A running system to measure; by default one is started in process.")
    String url;

    @Option(names = "--problem", defaultValue = "breast-cancer", description = "Problem to score (default: ${DEFAULT-VALUE}).")
    String problem;

    @Option(names = "--rates", split = ",", defaultValue = "200",
        description = "Request rates to step through, per second (default: ${DEFAULT-VALUE}).")
    List<Double> rates;

    @Option(names = "--duration", defaultValue = "15",
        description = "Seconds per rate (default: ${DEFAULT-VALUE}).")
    int durationSeconds;

    @Option(names = "--sla-ms", defaultValue = "50", description = "Latency counted as an SLA miss (default: ${DEFAULT-VALUE}).")
    double slaMs;

    @Option(names = "--connections", defaultValue = "64", description = "HTTP connections (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--rows", defaultValue = "model-runners/models/breast-cancer/reference.json",
        description = "JSON file whose 'rows' are the inputs sent (default: ${DEFAULT-VALUE}).")
    Path rows;

    @Option(names = "--models", split = ",",
        defaultValue = "model-runners/models/breast-cancer/bc-mlp-2.onnx,model-runners/models/breast-cancer/bc-gbt-3.onnx",
        description = "ONNX files to time in process at batch 1 and 64 (default: ${DEFAULT-VALUE}).")
    List<Path> models;

    @Option(names = "--out", defaultValue = "bench/results", description = "Report directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--suite", description = "Run the whole comparison: bare relay, direct ONNX and the full "
        + "rendezvous at stepped --rates, then the champion slowed and stopped, then 1 to --max-models models at "
        + "--fixed-rate, all on one embedded broker.")
    boolean suite;

    @Option(names = "--fixed-rate", defaultValue = "1000",
        description = "Rate of the fault and model-count scenarios of --suite (default: ${DEFAULT-VALUE}).")
    double fixedRate;

    @Option(names = "--max-models", defaultValue = "8",
        description = "Largest model count of --suite (default: ${DEFAULT-VALUE}).")
    int maxModels;

    @CommandLine.Mixin
    BenchSuiteOptions suiteOptions = new BenchSuiteOptions();

    @Override
    public Integer call() throws Exception {
      JsonNode reference = Json.MAPPER.readTree(rows.toFile());
      List<String> bodies = LoadGenerator.bodiesFromRows(reference.get("rows"), "features", "FP32");
      if (suite || suiteOptions.quick()) {
        Path report = BenchSuite.run(suiteOptions.settings(Path.of("."),
            rates, durationSeconds * 1000L, fixedRate, maxModels, connections, out), bodies);
        System.out.println("Report: " + report);
        return 0;
      }
      String codec = CodecTiming.table(CodecTiming.run(
          OnnxTiming.rows(reference.get("rows")).get(0), 200_000));
      List<OnnxTiming.Result> timings = new ArrayList<>();
      for (Path model : models) {
        for (int batch : new int[] {1, 64}) {
          timings.add(OnnxTiming.time(model, model.getFileName().toString(),
              OnnxTiming.rows(reference.get("rows")), batch, 20_000));
        }
      }
      EmbeddedSystem system = null;
      String target = url;
      if (target == null) {
        system = EmbeddedSystem.start(new EmbeddedSystem.Options(Path.of("target/bench-data-" + System.nanoTime()),
            Path.of("schedules"), EmbeddedSystem.loadRunners(List.of(Path.of("model-runners/config"),
                Path.of("canary/config"))), "127.0.0.1", 0, null, 4, true, 500));
        target = system.url();
      }
      try {
        List<LoadGenerator.Outcome> outcomes = new ArrayList<>();
        // A young JVM spends a core compiling for its first minute: measure compiled code, as --suite does.
        LoadGenerator.run(new LoadGenerator.Settings(target, problem, bodies, Math.min(rates.get(0), 250), 15_000,
            slaMs, connections));
        for (double rate : rates) {
          LoadGenerator.Outcome o = LoadGenerator.run(
              new LoadGenerator.Settings(target, problem, bodies, rate, durationSeconds * 1000L,
                  slaMs, connections));
          System.out.printf("rate %.0f/s: p50 %.2f ms, p99 %.2f ms, SLA %.2f%%, errors %d%n", rate, o.percentileMs(50),
              o.percentileMs(99), o.slaAttainment() * 100, o.errors());
          outcomes.add(o);
        }
        String settings = "- Target: " + (url == null ? "the embedded default started in process (schedules/, all "
            + "demo runners and the canary)" : url) + "\n- Problem: " + problem + ", " + durationSeconds
            + " s per rate, SLA " + slaMs + " ms, " + connections + " connections, open loop (latency from each "
            + "request's due time), after 15 s of warm-up load\n";
        Path file = BenchReport.write(out, "latency", "End-to-end latency", settings,
            BenchReport.table("Through the whole path (HTTP, Kafka, runners, rendezvous)",
                outcomes) + BenchReport.onnxTable(timings) + codec);
        System.out.println("Report: " + file);
      } finally {
        if (system != null) {
          system.close();
        }
      }
      return 0;
    }
  }

  @Command(name = "soak", mixinStandardHelpOptions = true,
      description = "Start the embedded default, send steady open-loop load (loopback only) for a long time, "
          + "sample the heap after GC and the sizes of the per-request tables, and write a Markdown report "
          + "(docs/benchmark.md#soak).")
  static final class Soak implements Callable<Integer> {

    @Option(names = "--rate", defaultValue = "200", description = "Requests per second (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--duration", defaultValue = "600",
        description = "Seconds of sampled load (default: ${DEFAULT-VALUE}).")
    int durationSeconds;

    @Option(names = "--warm-up", defaultValue = "60",
        description = "Seconds of load before the first sample (default: ${DEFAULT-VALUE}).")
    int warmUpSeconds;

    @Option(names = "--sample-every", defaultValue = "10",
        description = "Seconds between samples (default: ${DEFAULT-VALUE}).")
    int sampleSeconds;

    @Option(names = "--problem", defaultValue = "breast-cancer", description = "Problem to score (default: ${DEFAULT-VALUE}).")
    String problem;

    @Option(names = "--rows", defaultValue = "model-runners/models/breast-cancer/reference.json",
        description = "JSON file whose 'rows' are the inputs sent (default: ${DEFAULT-VALUE}).")
    Path rows;

    @Option(names = "--out", defaultValue = "bench/results", description = "Report directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
      List<String> bodies = LoadGenerator.bodiesFromRows(Json.MAPPER.readTree(rows.toFile()).get("rows"), "features",
          "FP32");
      try (EmbeddedSystem system = EmbeddedSystem.start(new EmbeddedSystem.Options(
          Path.of("target/soak-data-" + System.nanoTime()), Path.of("schedules"), EmbeddedSystem.loadRunners(
              List.of(Path.of("model-runners/config"), Path.of("canary/config"))), "127.0.0.1", 0, null, 4, true,
          500))) {
        dev.rendezvous.bench.Soak.Report report = dev.rendezvous.bench.Soak.run(system,
            new dev.rendezvous.bench.Soak.Settings(problem, rate, warmUpSeconds * 1000L, durationSeconds * 1000L,
                sampleSeconds * 1000L, 30_000), bodies);
        System.out.println("Report: " + report.write(out));
        boolean bounded = report.heapBounded(2, 64L << 20);
        System.out.println(bounded ? "heap bounded" : "heap grew: more than twice the heap after the warm-up + 64 MB");
        return bounded ? 0 : 1;
      }
    }
  }

  @Command(name = "export", mixinStandardHelpOptions = true,
      description = "Write a training set: one row per archived request of PROBLEM received in [--since, --until), "
          + "with its inputs, every model's scores (replayed ones as <model>@replay) and its outcome.")
  static final class Export implements Callable<Integer> {

    @CommandLine.Parameters(index = "0", paramLabel = "PROBLEM", description = "The served problem.")
    String problem;

    @Option(names = "--since", defaultValue = "1970-01-01",
        description = "First time included: 2026-11-25T15:00:00Z, 2026-11-25T15:00 (UTC), 2026-11-25, now, -2h, "
            + "-7d (default: ${DEFAULT-VALUE}).")
    String since;

    @Option(names = "--until", defaultValue = "now", description = "First time excluded (default: ${DEFAULT-VALUE}).")
    String until;

    @Option(names = "--out", required = true, description = "The file to write.")
    Path out;

    @Option(names = "--format", defaultValue = "csv",
        description = "csv or jsonl (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--archive", defaultValue = "data/archive",
        description = "The decoy's archive (default: ${DEFAULT-VALUE}, as `up --data data` writes it).")
    Path archive;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      long now = Clock.SYSTEM.nowMicros();
      TrainingSetExport.Format f = switch (format.toLowerCase(java.util.Locale.ROOT)) {
        case "csv" -> TrainingSetExport.Format.CSV;
        case "jsonl", "json-lines" -> TrainingSetExport.Format.JSONL;
        default -> throw new CommandLine.ParameterException(spec.commandLine(),
            "--format must be csv or jsonl, not " + format);
      };
      ArchiveLayout layout = archiveOf(spec, archive, problem);
      TrainingSetExport.Summary s = TrainingSetExport.export(layout, problem, time(spec, since, now),
          time(spec, until, now), out, f, System.err);
      System.out.println(s.rows() + " rows (" + s.withOutcome() + " with an outcome), models " + s.models()
          + ", written to " + s.file());
      return 0;
    }
  }

  @Command(name = "replay", mixinStandardHelpOptions = true,
      description = "Score PROBLEM's archived inputs offline with the model of a runner configuration and write "
          + "the scores beside the recorded ones (<archive>/<problem>/replay/), where export finds them.")
  static final class Replay implements Callable<Integer> {

    @CommandLine.Parameters(index = "0", paramLabel = "PROBLEM", description = "The served problem.")
    String problem;

    @Option(names = "--model", required = true, description = "A runner configuration file (YAML).")
    Path model;

    @Option(names = "--since", defaultValue = "1970-01-01", description = "First time included (default: ${DEFAULT-VALUE}).")
    String since;

    @Option(names = "--until", defaultValue = "now", description = "First time excluded (default: ${DEFAULT-VALUE}).")
    String until;

    @Option(names = "--archive", defaultValue = "data/archive",
        description = "The decoy's archive (default: ${DEFAULT-VALUE}).")
    Path archive;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      long now = Clock.SYSTEM.nowMicros();
      RunnerConfig candidate;
      try {
        candidate = RunnerConfig.load(model);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
      dev.rendezvous.decoy.Replay.Summary s = dev.rendezvous.decoy.Replay.run(archiveOf(spec, archive, problem),
          problem, candidate, time(spec, since, now), time(spec, until, now), Clock.SYSTEM, System.err);
      System.out.println(s.scored() + " requests scored, " + s.errors() + " errors, written to " + s.file());
      return s.errors() == 0 ? 0 : 1;
    }
  }

  private static long time(CommandLine.Model.CommandSpec spec, String text, long nowUs) {
    try {
      return TimeArg.parseMicros(text, nowUs);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private static ArchiveLayout archiveOf(CommandLine.Model.CommandSpec spec, Path archive, String problem) {
    ArchiveLayout layout = new ArchiveLayout(archive);
    if (!java.nio.file.Files.isDirectory(layout.problemDir(problem))) {
      throw new CommandLine.ParameterException(spec.commandLine(), "no archive of problem '" + problem + "' in "
          + archive.toAbsolutePath() + " (see --archive)");
    }
    return layout;
  }
}
