package dev.rendezvous.process;

import dev.rendezvous.common.Clock;
import dev.rendezvous.rendezvous.RendezvousConfig;
import dev.rendezvous.rendezvous.RendezvousVerticle;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * One rendezvous per problem of the schedules directory, in one process. Replicas share each problem's
 * consumer group and split its partitions, so several of these processes scale one problem out.
 */
@Command(name = "rendezvous", mixinStandardHelpOptions = true,
    description = "Run the rendezvous for every problem in the schedules directory against a Kafka cluster.")
public final class RendezvousCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;

  @Option(names = "--schedules", defaultValue = "${env:RDV_SCHEDULES:-schedules}",
      description = "Directory of schedule files, one per problem (env RDV_SCHEDULES; default: ${DEFAULT-VALUE}).")
  Path schedules;

  @Option(names = "--max-pending", defaultValue = "${env:RDV_MAX_PENDING:-100000}",
      description = "Most undecided requests held per problem before new ones get the default at once "
          + "(env RDV_MAX_PENDING; default: ${DEFAULT-VALUE}).")
  int maxPending;

  @Override
  public Integer call() throws Exception {
    ScheduleRegistry registry = new ScheduleRegistry();
    var control = Processes.followSchedules(kafka, schedules, registry);
    var metrics = dev.rendezvous.metrics.Metrics.newRegistry();
    Vertx vertx = Vertx.vertx();
    List<Future<?>> assigned = new ArrayList<>();
    for (String problem : registry.problems()) {
      kafka.ensureTopics(problem);
      RendezvousConfig defaults = RendezvousConfig.defaults(problem, kafka.bootstrapServers());
      RendezvousVerticle verticle = new RendezvousVerticle(new RendezvousConfig(problem, kafka.bootstrapServers(),
          maxPending, defaults.orphanTtlMs(), defaults.decidedTtlMs()), registry, Clock.SYSTEM, metrics);
      vertx.deployVerticle(verticle).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      assigned.add(verticle.assigned());
    }
    Future.all(assigned).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    var metricsServer = Processes.metrics(metrics, kafka.metricsHost, kafka.metricsPort);
    Processes.ready("rendezvous " + String.join(",", registry.problems()));
    return Processes.runUntilStopped(control, () -> dev.rendezvous.metrics.Metrics.close(metrics), metricsServer,
        () -> vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
  }
}
