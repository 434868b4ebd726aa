package dev.rendezvous.process;

import dev.rendezvous.embedded.EmbeddedSystem;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.monitor.MonitorConfig;
import dev.rendezvous.monitor.ScoreMonitor;
import dev.rendezvous.schedule.Schedule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The score monitor on its own: drift and canary agreement per model, on /metrics (see docs/monitor.md). */
@Command(name = "monitor", mixinStandardHelpOptions = true,
    description = "Watch every model's score distribution against its past and against the canary, and export "
        + "the statistics on /metrics.")
public final class MonitorCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;

  @Option(names = "--schedules", defaultValue = "${env:RDV_SCHEDULES:-schedules}",
      description = "Directory of schedule files: one monitor per problem (env RDV_SCHEDULES; default: "
          + "${DEFAULT-VALUE}).")
  Path schedules;

  @Override
  public Integer call() throws Exception {
    var metrics = Metrics.newRegistry();
    List<ScoreMonitor> monitors = new ArrayList<>();
    for (Schedule s : EmbeddedSystem.loadSchedules(schedules)) {
      kafka.ensureTopics(s.problem());
      monitors.add(new ScoreMonitor(MonitorConfig.defaults(s.problem()), kafka.bootstrapServers(), metrics).start());
    }
    for (ScoreMonitor m : monitors) {
      m.assigned().get(120, TimeUnit.SECONDS);
    }
    var server = Processes.metrics(metrics, kafka.metricsHost, kafka.metricsPort);
    Processes.ready("monitor " + (server == null ? "" : "metrics on port " + server.port()));
    List<AutoCloseable> resources = new ArrayList<>();
    resources.add(() -> Metrics.close(metrics));
    resources.add(server);
    monitors.forEach(m -> resources.add(m::close));
    return Processes.runUntilStopped(resources.toArray(AutoCloseable[]::new));
  }
}
