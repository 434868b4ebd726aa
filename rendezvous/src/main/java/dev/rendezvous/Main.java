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
    subcommands = {Main.Up.class})
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
      System.out.println("Metrics for Prometheus: " + url + "/metrics; live status page: " + url + "/ui/");
      System.out.println("Press Ctrl-C to stop.");
      stopped.await();
      return 0;
    }
  }
}
