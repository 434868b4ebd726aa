package dev.rendezvous.process;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * One rendezvous per problem of the schedules directory, in one process. Replicas share each problem's
 * consumer group and split its partitions, so several of these processes scale one problem out.
 */
@Command(name = "rendezvous", mixinStandardHelpOptions = true,
    description = "Run the rendezvous for every problem in the schedules directory against a Kafka cluster.")
public final class RendezvousCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;
  @Mixin MetricsOptions metrics;
  @Mixin SchedulesOptions schedules;
  @Mixin RendezvousOptions rendezvous;

  @Override
  public Integer call() throws Exception {
    return Processes.run(kafka, metrics, a -> {
      a.followSchedules(schedules.dir(), List.of(), false);
      a.rendezvous(rendezvous::toConfig);
      return "rendezvous " + String.join(",", a.schedules().problems());
    });
  }
}
