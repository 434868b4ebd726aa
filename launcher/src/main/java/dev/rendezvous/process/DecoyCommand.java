package dev.rendezvous.process;

import java.nio.file.Path;
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
    return Processes.run(kafka, metrics, a -> "decoy " + a.decoys(Assembly.problems(schedules.dir()),
        p -> decoy.toConfig(p, archive)).get(0).config().archiveDir());
  }
}
