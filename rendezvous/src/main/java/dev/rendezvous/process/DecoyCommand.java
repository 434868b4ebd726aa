package dev.rendezvous.process;

import dev.rendezvous.common.Clock;
import dev.rendezvous.decoy.Decoy;
import dev.rendezvous.decoy.DecoyConfig;
import dev.rendezvous.embedded.EmbeddedSystem;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.schedule.Schedule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The decoy on its own: archives every input, score and outcome of each problem (see docs/decoy.md). */
@Command(name = "decoy", mixinStandardHelpOptions = true,
    description = "Archive every request (and its scores and outcomes) of each problem, durably, against a Kafka "
        + "cluster.")
public final class DecoyCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;

  @Option(names = "--schedules", defaultValue = "${env:RDV_SCHEDULES:-schedules}",
      description = "Directory of schedule files: one decoy per problem (env RDV_SCHEDULES; default: ${DEFAULT-VALUE}).")
  Path schedules;

  @Option(names = "--archive", defaultValue = "${env:RDV_ARCHIVE:-data/archive}",
      description = "Archive directory; put it on a persistent volume (env RDV_ARCHIVE; default: ${DEFAULT-VALUE}).")
  Path archive;

  @Option(names = "--retention-hours", defaultValue = "${env:RDV_RETENTION_HOURS:-168}",
      description = "Hours of archive kept (env RDV_RETENTION_HOURS; default: ${DEFAULT-VALUE}).")
  int retentionHours;

  @Option(names = "--fail-after-ms", defaultValue = "${env:RDV_DECOY_FAIL_AFTER_MS:-600000}",
      description = "Exit with status 1 when an archive could not be written for this long, for a supervisor to "
          + "restart the process; 0 retries for ever (env RDV_DECOY_FAIL_AFTER_MS; default: ${DEFAULT-VALUE}).")
  long failAfterMs;

  @Override
  public Integer call() throws Exception {
    // The decoy's consumer loops export their lag and readiness (rdv_consumer_*{loop="decoy-<problem>"}): an
    // archive that falls behind or stops is what the decoy alerts watch.
    var metrics = Metrics.newRegistry();
    List<Decoy> decoys = new ArrayList<>();
    try {
      for (Schedule s : EmbeddedSystem.loadSchedules(schedules)) {
        kafka.ensureTopics(s.problem());
        Decoy decoy = new Decoy(DecoyConfig.defaults(s.problem(), archive).withRetentionHours(retentionHours)
            .withFailAfterMs(failAfterMs), kafka.bootstrapServers(), Clock.SYSTEM, metrics).start();
        dev.rendezvous.decoy.DecoyMain.exitWhenItGivesUp(decoy);
        decoys.add(decoy);
      }
      for (Decoy d : decoys) {
        d.assigned().get(120, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      for (Decoy d : decoys) {
        d.close();
      }
      Metrics.close(metrics);
      throw e;
    }
    var server = Processes.metrics(metrics, kafka.metricsHost, kafka.metricsPort);
    Processes.ready("decoy " + archive + (server == null ? "" : ", metrics on port " + server.port()));
    List<AutoCloseable> resources = new ArrayList<>();
    resources.add(() -> Metrics.close(metrics));
    resources.add(server);
    decoys.forEach(d -> resources.add(d::close));
    return Processes.runUntilStopped(resources.toArray(AutoCloseable[]::new));
  }
}
