package dev.rendezvous;

import dev.rendezvous.embedded.EmbeddedSystem;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code bin/rendezvous} command line. */
@Command(name = "rendezvous", mixinStandardHelpOptions = true, version = "rendezvous 0.1.0-SNAPSHOT",
    description = "Latency-tiered model serving over Apache Kafka.",
    // Each component on its own: broker, proxy, rendezvous, runner (see docs/processes.md). The decoy and
    // score monitor commands (modules decoy/ and canary/) belong in this list too.
    subcommands = {Main.Up.class, Main.Bench.class, dev.rendezvous.process.BrokerCommand.class,
        dev.rendezvous.process.ProxyCommand.class, dev.rendezvous.process.RendezvousCommand.class,
        dev.rendezvous.process.RunnerCommand.class})
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
        description = "Directory for the embedded broker's data (default: ${DEFAULT-VALUE}).")
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

    @Option(names = "--warm-up", defaultValue = "200",
        description = "Zero-valued requests sent through the whole path per problem before reporting ready, "
            + "so the first real request runs compiled code (default: ${DEFAULT-VALUE}; 0 = none).")
    int warmUp;

    @Override
    public Integer call() throws Exception {
      EmbeddedSystem system = EmbeddedSystem.start(new EmbeddedSystem.Options(data, schedules,
          EmbeddedSystem.loadRunners(runners), host, port, bootstrapServers, partitions, true, warmUp));
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
      String url = "http://" + host + ":" + system.port();
      System.out.println("Rendezvous is up at " + url + " (problems: " + String.join(", ",
          system.schedules().problems()) + "). Try:");
      for (String problem : system.schedules().problems()) {
        System.out.println("  curl -s " + url + "/v2/models/" + problem);
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

    @Override
    public Integer call() throws Exception {
      com.fasterxml.jackson.databind.JsonNode reference = dev.rendezvous.common.Json.MAPPER.readTree(rows.toFile());
      List<String> bodies = dev.rendezvous.bench.LoadGenerator.bodiesFromRows(reference.get("rows"), "features", "FP32");
      if (suite) {
        Path report = dev.rendezvous.bench.BenchSuite.run(new dev.rendezvous.bench.BenchSuite.Settings(Path.of("."),
            rates, durationSeconds * 1000L, fixedRate, maxModels, connections, out), bodies);
        System.out.println("Report: " + report);
        return 0;
      }
      String codec = dev.rendezvous.bench.CodecTiming.table(dev.rendezvous.bench.CodecTiming.run(
          dev.rendezvous.bench.OnnxTiming.rows(reference.get("rows")).get(0), 200_000));
      List<dev.rendezvous.bench.OnnxTiming.Result> timings = new java.util.ArrayList<>();
      for (Path model : models) {
        for (int batch : new int[] {1, 64}) {
          timings.add(dev.rendezvous.bench.OnnxTiming.time(model, model.getFileName().toString(),
              dev.rendezvous.bench.OnnxTiming.rows(reference.get("rows")), batch, 20_000));
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
        List<dev.rendezvous.bench.LoadGenerator.Outcome> outcomes = new java.util.ArrayList<>();
        for (double rate : rates) {
          dev.rendezvous.bench.LoadGenerator.Outcome o = dev.rendezvous.bench.LoadGenerator.run(
              new dev.rendezvous.bench.LoadGenerator.Settings(target, problem, bodies, rate, durationSeconds * 1000L,
                  slaMs, connections));
          System.out.printf("rate %.0f/s: p50 %.2f ms, p99 %.2f ms, SLA %.2f%%, errors %d%n", rate, o.percentileMs(50),
              o.percentileMs(99), o.slaAttainment() * 100, o.errors());
          outcomes.add(o);
        }
        String settings = "- Target: " + (url == null ? "the embedded default started in process (schedules/, all "
            + "demo runners and the canary)" : url) + "\n- Problem: " + problem + ", " + durationSeconds
            + " s per rate, SLA " + slaMs + " ms, " + connections + " connections, open loop (latency from each "
            + "request's due time)\n";
        Path file = dev.rendezvous.bench.BenchReport.write(out, "latency", "End-to-end latency", settings,
            dev.rendezvous.bench.BenchReport.table("Through the whole path (HTTP, Kafka, runners, rendezvous)",
                outcomes) + dev.rendezvous.bench.BenchReport.onnxTable(timings) + codec);
        System.out.println("Report: " + file);
      } finally {
        if (system != null) {
          system.close();
        }
      }
      return 0;
    }
  }
}
