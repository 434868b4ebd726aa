package dev.rendezvous.process;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** What every component process does the same way: announce readiness, then run until SIGTERM or Ctrl-C. */
final class Processes {

  private Processes() {}

  /**
   * Prints {@code READY <what>} on standard output. Scripts and tests that start a process wait for this
   * line; logs go to standard error, so it is the only thing a component writes to standard output.
   */
  static void ready(String what) {
    System.out.println("READY " + what);
    System.out.flush();
  }

  /**
   * Puts this process's schedules in force the way every process of a deployment agrees on them: through each
   * problem's schedule log. The files are validated and their problems' topics created when missing; a file
   * seeds its problem's log only when the log is empty (otherwise the version in force stays, and a file that
   * differs from it is logged), then the process follows the log, so edits applied anywhere later reach it too.
   */
  static dev.rendezvous.rollout.ScheduleControl followSchedules(KafkaOptions kafka, java.nio.file.Path dir,
      dev.rendezvous.schedule.ScheduleRegistry registry) throws Exception {
    String bootstrapServers = kafka.bootstrapServers();
    java.util.Set<String> problems = new java.util.TreeSet<>();
    dev.rendezvous.embedded.EmbeddedSystem.loadSchedules(dir).forEach(s -> problems.add(s.problem()));
    problems.forEach(kafka::ensureTopics);
    dev.rendezvous.rollout.ScheduleControl control = new dev.rendezvous.rollout.ScheduleControl(bootstrapServers,
        problems, registry, List.of(), dev.rendezvous.common.Clock.SYSTEM,
        dev.rendezvous.rollout.ScheduleControl.DEFAULT_RECENT_MS).start();
    control.seedFrom(dir);
    return control;
  }

  /**
   * Serves the registry on {@code GET /metrics} at the port (0 = any free port), or returns null when the port
   * is negative (metrics off).
   */
  static dev.rendezvous.metrics.MetricsServer metrics(io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry,
      String host, int port) throws java.io.IOException {
    return port < 0 ? null : dev.rendezvous.metrics.MetricsServer.start(registry, host, port);
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
