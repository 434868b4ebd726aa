package dev.rendezvous.decoy;

import dev.rendezvous.common.Clock;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The decoy as a process of its own, for distributed deployments: archives one problem until stopped.
 * Prints {@code decoy ready} on standard output once it owns its partitions.
 */
@Command(name = "decoy", mixinStandardHelpOptions = true,
    description = "Archive every input, score and outcome record of one problem.")
public final class DecoyMain implements Callable<Integer> {

  @Option(names = "--bootstrap-servers", required = true, description = "Kafka cluster.")
  String bootstrapServers;

  @Option(names = "--problem", required = true, description = "The problem to archive.")
  String problem;

  @Option(names = "--archive", defaultValue = "data/archive",
      description = "Archive root directory (default: ${DEFAULT-VALUE}).")
  Path archive;

  @Option(names = "--flush-interval-ms", defaultValue = "200",
      description = "Sync and commit at least this often while records arrive (default: ${DEFAULT-VALUE}).")
  long flushIntervalMs;

  @Option(names = "--retention-hours", defaultValue = "168",
      description = "Delete hours older than this; 0 keeps all (default: ${DEFAULT-VALUE}).")
  int retentionHours;

  @Option(names = "--record-warm-up", description = "Archive the launcher's warm-up requests, flagged.")
  boolean recordWarmUp;

  @Option(names = "--fail-after-ms", defaultValue = "600000",
      description = "Exit with status 1 when the archive could not be written for this long; 0 retries for ever "
          + "(default: ${DEFAULT-VALUE}).")
  long failAfterMs;

  public static void main(String[] args) {
    System.exit(new CommandLine(new DecoyMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    DecoyConfig config = DecoyConfig.defaults(problem, archive).withFlushIntervalMs(flushIntervalMs)
        .withRetentionHours(retentionHours).withRecordWarmUp(recordWarmUp).withFailAfterMs(failAfterMs);
    Decoy decoy = new Decoy(config, bootstrapServers, Clock.SYSTEM).start();
    exitWhenItGivesUp(decoy);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        decoy.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      stopped.countDown();
    }, "decoy-shutdown"));
    decoy.assigned().get(60, TimeUnit.SECONDS);
    System.out.println("decoy ready");
    System.out.flush();
    stopped.await();
    return 0;
  }

  /**
   * Exits the JVM with status 1 when the decoy gives up on a failing archive, so that a supervisor restarts it
   * (it then resumes from its last commit). Exits from a thread of its own: the shutdown hooks wait for the
   * decoy's thread, which completes the future.
   */
  public static void exitWhenItGivesUp(Decoy decoy) {
    decoy.terminated().whenComplete((v, e) -> {
      if (e != null) {
        System.err.println("decoy for " + decoy.config().problem() + " gave up and exits: " + e.getMessage());
        new Thread(() -> System.exit(1), "decoy-exit").start();
      }
    });
  }
}
