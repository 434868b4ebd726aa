package dev.rendezvous.process;

import dev.rendezvous.decoy.Decoy;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The decoy on its own: archives every input, score and outcome of each problem (see docs/decoy.md). */
@Command(name = "decoy", mixinStandardHelpOptions = true,
    description = "Archive every request (and its scores and outcomes) of each problem, durably, against a Kafka "
        + "cluster.")
public final class DecoyCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;
  @Mixin MetricsOptions metrics;
  @Mixin SchedulesOptions schedules;
  @Mixin DecoyOptions decoy;

  @Override
  public Integer call() throws Exception {
    // The decoy's consumer loops export their lag and readiness (rdv_consumer_*{loop="decoy-<problem>"}): an
    // archive that falls behind or stops is what the decoy alerts watch.
    Path archive = Path.of("data", "archive");
    return Processes.run(kafka, metrics, a -> {
      List<Decoy> decoys = a.decoys(Assembly.problems(schedules.dir()),
          p -> decoy.toConfig(p, archive, DecoyOptions.PROCESS_FAIL_AFTER_MS));
      decoys.forEach(DecoyCommand::exitWhenItGivesUp);
      return "decoy " + decoys.get(0).config().archiveDir();
    });
  }

  /**
   * Exits the JVM with status 1 when the decoy gives up on a failing archive, so that a supervisor restarts it
   * (it then resumes from its last commit). Exits from a thread of its own: the shutdown hooks wait for the
   * decoy's thread, which completes the future.
   */
  static void exitWhenItGivesUp(Decoy decoy) {
    decoy.terminated().whenComplete((v, e) -> {
      if (e != null) {
        System.err.println("decoy for " + decoy.config().problem() + " gave up and exits: " + e.getMessage());
        new Thread(() -> System.exit(1), "decoy-exit").start();
      }
    });
  }
}
