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

  @Option(names = "--orphan-ttl-ms", defaultValue = "${env:RDV_ORPHAN_TTL_MS:-10000}",
      description = "How long a score that overtook its request waits for it before it is dropped "
          + "(env RDV_ORPHAN_TTL_MS; default: ${DEFAULT-VALUE}).")
  long orphanTtlMs;

  @Option(names = "--max-orphans", defaultValue = "${env:RDV_MAX_ORPHANS:-100000}",
      description = "Most scores kept waiting for their request; beyond it the oldest are dropped "
          + "(env RDV_MAX_ORPHANS; default: ${DEFAULT-VALUE}).")
  int maxOrphans;

  @Option(names = "--decided-ttl-ms", defaultValue = "${env:RDV_DECIDED_TTL_MS:-10000}",
      description = "How long decided request ids are remembered, to count later scores as late "
          + "(env RDV_DECIDED_TTL_MS; default: ${DEFAULT-VALUE}).")
  long decidedTtlMs;

  @Option(names = "--max-decided", defaultValue = "${env:RDV_MAX_DECIDED:-1000000}",
      description = "Most decided request ids remembered; beyond it the oldest are forgotten "
          + "(env RDV_MAX_DECIDED; default: ${DEFAULT-VALUE}).")
  int maxDecided;

  @Option(names = "--instance-id", defaultValue = "${env:RDV_INSTANCE_ID}",
      description = "This replica's stable name in each problem's consumer group (static membership): a "
          + "replacement started with the same id after a crash owns the partitions again at once instead of "
          + "after the session timeout. Unique per replica, e.g. the pod name (env RDV_INSTANCE_ID; default: "
          + "none, a dynamic member).")
  String instanceId;

  @Override
  public Integer call() throws Exception {
    ScheduleRegistry registry = new ScheduleRegistry();
    var control = Processes.followSchedules(kafka, schedules, registry);
    var metrics = dev.rendezvous.metrics.Metrics.newRegistry();
    Vertx vertx = Vertx.vertx();
    List<Future<?>> assigned = new ArrayList<>();
    for (String problem : registry.problems()) {
      kafka.ensureTopics(problem);
      RendezvousVerticle verticle = new RendezvousVerticle(new RendezvousConfig(problem, kafka.bootstrapServers(),
          maxPending, orphanTtlMs, maxOrphans, decidedTtlMs, maxDecided,
          instanceId == null || instanceId.isBlank() ? null : instanceId.strip()), registry, Clock.SYSTEM, metrics);
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
