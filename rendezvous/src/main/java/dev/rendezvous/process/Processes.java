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

  /** Blocks until the JVM is asked to stop, then closes the resources in reverse order and returns 0. */
  static int runUntilStopped(AutoCloseable... resources) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    List<AutoCloseable> toClose = new ArrayList<>(List.of(resources));
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
