package dev.rendezvous.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.common.Clock;
import dev.rendezvous.rendezvous.RendezvousConfig;
import dev.rendezvous.rendezvous.RendezvousVerticle;
import dev.rendezvous.rollout.ScheduleFollower;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.vertx.core.Vertx;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A rendezvous instance on its own, as a separate process would run it: it follows the problem's schedule log
 * and decides the requests of the partitions it is assigned. It reports on standard output, one line each,
 * {@code version N} whenever a schedule version is put in force, {@code caught-up N} once the log has been
 * read, and {@code ready} once it owns partitions. Arguments: bootstrap servers, problem, and optionally an
 * instance id (static membership of the rendezvous group).
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
    RendezvousVerticle rendezvous = new RendezvousVerticle(RendezvousConfig.defaults(problem, bootstrap)
        .withInstanceId(args.length > 2 && !args[2].isEmpty() ? args[2] : null), registry, Clock.SYSTEM);
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

  /**
   * A child JVM running this class, with its output lines collected. System properties {@code rdv.kafka.*} of the
   * test JVM reach it, with {@code settings} on top.
   */
  static final class Child implements AutoCloseable {
    final Process process;
    final List<String> lines = new CopyOnWriteArrayList<>();
    volatile long readyAtNanos;
    volatile long joiningAtNanos;

    Child(String bootstrap, String problem, String instanceId, Map<String, String> settings, Path log)
        throws Exception {
      List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
              .toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1",
          "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
          "-cp", System.getProperty("java.class.path"), RendezvousProcess.class.getName(), bootstrap, problem,
          instanceId == null ? "" : instanceId));
      Map<String, String> properties = new HashMap<>();
      System.getProperties().forEach((k, v) -> {
        if (k.toString().startsWith("rdv.kafka.")) {
          properties.put(k.toString(), v.toString());
        }
      });
      properties.putAll(settings);
      properties.forEach((k, v) -> command.add(1, "-D" + k + "=" + v));
      process = new ProcessBuilder(command).redirectError(log.toFile()).start();
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
            StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            if (line.equals("ready")) {
              readyAtNanos = System.nanoTime();
            } else if (line.startsWith("caught-up")) {
              joiningAtNanos = System.nanoTime(); // it joins the group right after
            }
            lines.add(line);
          }
        } catch (Exception e) {
          // process ended
        }
      });
      reader.setDaemon(true);
      reader.start();
    }

    void await(String line) {
      Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
          .failFast(() -> assertThat(process.isAlive()).as("rendezvous exited; output " + lines).isTrue())
          .untilAsserted(() -> assertThat(lines.contains(line))
              .as("'%s' not printed within 120 s; output %s", line, lines).isTrue());
    }

    @Override
    public void close() throws Exception {
      process.destroy();
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
