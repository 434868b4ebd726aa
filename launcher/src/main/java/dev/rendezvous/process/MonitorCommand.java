package dev.rendezvous.process;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The score monitor on its own: drift and canary agreement per model, on /metrics (see docs/monitor.md). */
@Command(name = "monitor", mixinStandardHelpOptions = true,
    description = "Watch every model's score distribution against its past and against the canary, and export "
        + "the statistics on /metrics.")
public final class MonitorCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;
  @Mixin MetricsOptions metrics;
  @Mixin SchedulesOptions schedules;
  @Mixin MonitorOptions monitor;

  @Override
  public Integer call() throws Exception {
    return Processes.run(kafka, metrics, a -> "monitor " + String.join(",", a.monitors(
        Assembly.problems(schedules.dir()), monitor::toConfig, 0).stream().map(m -> m.config().problem()).toList()));
  }
}
