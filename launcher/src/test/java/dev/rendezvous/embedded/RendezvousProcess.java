package dev.rendezvous.embedded;

import dev.rendezvous.common.Clock;
import dev.rendezvous.rendezvous.RendezvousConfig;
import dev.rendezvous.rendezvous.RendezvousVerticle;
import dev.rendezvous.rollout.ScheduleFollower;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A rendezvous instance on its own, as a separate process would run it: it follows the problem's schedule log
 * and decides the requests of the partitions it is assigned. It reports on standard output, one line each,
 * {@code version N} whenever a schedule version is put in force, {@code caught-up N} once the log has been
 * read, and {@code ready} once it owns partitions. Arguments: bootstrap servers, problem.
 */
public final class RendezvousProcess {

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String problem = args[1];
    ScheduleRegistry registry = new ScheduleRegistry();
    ScheduleFollower follower = new ScheduleFollower(bootstrap, Set.of(problem), registry);
    follower.onApplied(a -> System.out.println("version " + a.version()));
    follower.start().awaitCaughtUp(Duration.ofSeconds(60));
    System.out.println("caught-up " + registry.current(problem).orElseThrow().version());
    Vertx vertx = Vertx.vertx();
    RendezvousVerticle rendezvous = new RendezvousVerticle(RendezvousConfig.defaults(problem, bootstrap), registry,
        Clock.SYSTEM);
    vertx.deployVerticle(rendezvous).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    rendezvous.assigned().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    System.out.println("ready");
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // Leaving the consumer group at once hands this instance's partitions to the others without a timeout.
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        follower.close();
      } catch (Exception e) {
        System.err.println("stop: " + e);
      }
      stopped.countDown();
    }));
    stopped.await();
  }

  private RendezvousProcess() {}
}
