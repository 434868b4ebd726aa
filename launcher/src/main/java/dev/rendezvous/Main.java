package dev.rendezvous;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.auth.AdminToken;
import dev.rendezvous.bench.BenchReport;
import dev.rendezvous.bench.BenchSuite;
import dev.rendezvous.bench.BenchSuiteOptions;
import dev.rendezvous.bench.CodecTiming;
import dev.rendezvous.bench.LoadGenerator;
import dev.rendezvous.bench.OnnxTiming;
import dev.rendezvous.common.Json;
import dev.rendezvous.embedded.EmbeddedSystem;
import dev.rendezvous.process.BrokerCommand;
import dev.rendezvous.process.ConfigurationDoc;
import dev.rendezvous.process.DecoyCommand;
import dev.rendezvous.process.Environment;
import dev.rendezvous.process.MonitorCommand;
import dev.rendezvous.process.ProxyCommand;
import dev.rendezvous.process.RendezvousCommand;
import dev.rendezvous.process.RunnerCommand;
import dev.rendezvous.tools.ExportCommand;
import dev.rendezvous.tools.ReplayCommand;
import dev.rendezvous.tools.ScheduleCli;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** The {@code bin/rendezvous} command line. */
@Command(name = "rendezvous", mixinStandardHelpOptions = true, version = "rendezvous 0.1.0-SNAPSHOT",
    description = "Latency-tiered model serving over Apache Kafka.",
    // Everything in one process (up), or each component on its own (see docs/processes.md).
    subcommands = {Main.Up.class, ScheduleCli.class, ExportCommand.class, ReplayCommand.class, Main.Bench.class,
        BrokerCommand.class, ProxyCommand.class, RendezvousCommand.class, RunnerCommand.class, DecoyCommand.class,
        MonitorCommand.class, Main.Soak.class, Main.ConfigurationDocCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(Environment.install(new CommandLine(new Main())).execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  @Command(name = "up", mixinStandardHelpOptions = true,
      description = "Start everything in one process: Kafka broker, rendezvous, model runners, canary, decoy, "
          + "score monitor and the HTTP proxy. Stops cleanly on Ctrl-C.")
  static final class Up implements Callable<Integer> {

    @CommandLine.Mixin
    EmbeddedSystem.Options options;

    @Override
    public Integer call() throws Exception {
      EmbeddedSystem system = EmbeddedSystem.start(options);
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
      String url = (system.access().tls().isPresent() ? "https://" : "http://") + options.host() + ":" + system.port();
      System.out.println("Rendezvous is up at " + url + " (problems: " + String.join(", ",
          system.schedules().problems()) + "). Try:");
      for (String problem : system.schedules().problems()) {
        System.out.println("  curl -s " + url + "/v2/models/" + problem);
      }
      if (system.grpcPort() >= 0) {
        System.out.println("Open Inference Protocol over gRPC (inference.GRPCInferenceService): " + options.host() + ":"
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

  @Command(name = "configuration-doc", hidden = true,
      description = "Print docs/configuration.md: every component option with its variable and default.")
  static final class ConfigurationDocCommand implements Runnable {

    @Override
    public void run() {
      System.out.print(ConfigurationDoc.markdown(new CommandLine(new Main())));
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
            rates, durationSeconds * 1000L, fixedRate, maxModels, connections, out), bodies, EmbeddedSystem.forBenchmarks());
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
        system = EmbeddedSystem.start(EmbeddedSystem.Options.parse("--grpc-port", "-1", "--data",
            "target/bench-data-" + System.nanoTime(), "--port", "0", "--warm-up", "500", "--warm-up-jit-max", "0"));
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
      try (EmbeddedSystem system = EmbeddedSystem.start(EmbeddedSystem.Options.parse("--grpc-port", "-1", "--data",
          "target/soak-data-" + System.nanoTime(), "--schedules", "schedules", "--runners",
          "model-runners/config,canary/config", "--host", "127.0.0.1", "--port", "0", "--partitions", "4",
          "--rendezvous", "--warm-up", "500", "--warm-up-jit-max", "0"))) {
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
}
