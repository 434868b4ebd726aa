package dev.rendezvous.process;

import dev.rendezvous.metrics.Metrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** What every component process does the same way: announce readiness, then run until SIGTERM or Ctrl-C. */
final class Processes {

  private Processes() {}

  /** The work of one component command: start components into the assembly. */
  interface Start {
    /** Starts the components and returns the text of the READY line. */
    String into(Assembly assembly) throws Exception;
  }

  /**
   * Runs one component process: assembles what {@code start} starts, waits until every consumer owns its
   * partitions, serves {@code /metrics} where {@code metricsOptions} says (null: the component serves it itself),
   * prints {@code READY <what>} and blocks until the JVM is asked to stop, then stops everything.
   */
  static int run(KafkaOptions kafka, MetricsOptions metricsOptions, Start start) throws Exception {
    PrometheusMeterRegistry metrics = Metrics.newRegistry();
    Assembly assembly = new Assembly(kafka.bootstrapServers(), kafka.partitions(), kafka.replicationFactor(), metrics);
    String what;
    AutoCloseable server;
    try {
      what = start.into(assembly);
      assembly.awaitAssigned();
      server = metricsOptions == null ? null : metricsOptions.serve(metrics);
    } catch (Exception e) {
      assembly.close();
      Metrics.close(metrics);
      throw e;
    }
    ready(what);
    return runUntilStopped(() -> Metrics.close(metrics), server, assembly);
  }

  /**
   * Prints {@code READY <what>} on standard output. Scripts and tests that start a process wait for this
   * line; logs go to standard error, so it is the only thing a component writes to standard output.
   */
  static void ready(String what) {
    System.out.println("READY " + what);
    System.out.flush();
  }

  /** Blocks until the JVM is asked to stop, then closes the resources in reverse order and returns 0. */
  static int runUntilStopped(AutoCloseable... resources) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    List<AutoCloseable> toClose = new ArrayList<>();
    for (AutoCloseable r : resources) {
      if (r != null) {
        toClose.add(r);
      }
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (int i = toClose.size() - 1; i >= 0; i--) {
        try {
          toClose.get(i).close();
        } catch (Exception e) {
          System.err.println("error while stopping: " + e.getMessage());
        }
      }
      stopped.countDown();
    }, "shutdown"));
    stopped.await();
    return 0;
  }
}
