package dev.rendezvous.rollout;

import dev.rendezvous.common.Json;
import dev.rendezvous.runtime.Batch;
import dev.rendezvous.runtime.CommitPolicy;
import dev.rendezvous.runtime.Component;
import dev.rendezvous.runtime.ConsumerLoop;
import dev.rendezvous.runtime.ErrorPolicy;
import dev.rendezvous.runtime.Health;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleException;
import dev.rendezvous.schedule.ScheduleLoader;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the schedule logs of some problems and puts each version it reads in force in a
 * {@link ScheduleRegistry}, so that every process (proxy and each rendezvous instance) runs the versions
 * in the same order. It reads from the beginning, so it also holds each problem's history.
 *
 * <p>Its {@link ConsumerLoop} assigns the logs' partitions, without a consumer group and without committing:
 * every follower reads the whole log (a few kilobytes per version). A version not newer than the one in
 * force is ignored, so versions only move forward. A record that no longer parses (written by a newer
 * release, say) is logged and skipped ({@code rdv_consumer_poison_skipped_total{loop="schedule-follower"}}),
 * and the schedule in force stays.
 */
public final class ScheduleFollower implements Component {

  private static final Logger LOG = LoggerFactory.getLogger(ScheduleFollower.class);

  private final ScheduleRegistry registry;
  private final Set<TopicPartition> partitions;
  private final ConsumerLoop<String, byte[]> loop;
  private final Map<String, List<AppliedSchedule>> history = new ConcurrentHashMap<>();
  private final List<Consumer<AppliedSchedule>> listeners = new CopyOnWriteArrayList<>();
  private volatile int historyLimit = historyLimitFromEnvironment();

  /** Default of how many versions per problem a follower keeps in memory (the log keeps them all). */
  public static final int DEFAULT_HISTORY_LIMIT = 20;

  /** The environment variable that changes {@link #DEFAULT_HISTORY_LIMIT}. */
  public static final String HISTORY_LIMIT_ENV = "RDV_SCHEDULE_HISTORY";

  /** A follower whose consumer meters are kept but not exported. */
  public ScheduleFollower(String bootstrapServers, Set<String> problems, ScheduleRegistry registry) {
    this(bootstrapServers, problems, registry, new SimpleMeterRegistry());
  }

  /**
   * Creates each problem's log if missing; {@link #start} follows them from their beginning. Its consumer loop
   * registers its {@code rdv_consumer_*} meters with {@code metrics}.
   */
  public ScheduleFollower(String bootstrapServers, Set<String> problems, ScheduleRegistry registry,
      MeterRegistry metrics) {
    this.registry = registry;
    for (String p : problems) {
      ScheduleLog.ensureTopic(bootstrapServers, p);
      history.put(p, new CopyOnWriteArrayList<>());
    }
    this.partitions = ScheduleLog.partitions(problems);
    this.loop = ConsumerLoop.builder("schedule-follower", ScheduleLog.consumerProperties(bootstrapServers),
            new StringDeserializer(), new ByteArrayDeserializer(), this::handle)
        .assign(partitions, ConsumerLoop.StartPosition.BEGINNING)
        .commit(CommitPolicy.none())
        .errors(ErrorPolicy.retryThen(ErrorPolicy.Exhausted.SKIP))
        .pollTimeout(Duration.ofMillis(100))
        .metrics(metrics)
        .build();
  }

  /** Starts following. */
  @Override
  public ScheduleFollower start() {
    loop.start();
    return this;
  }

  @Override
  public String name() {
    return loop.name();
  }

  /** The health of its consumer loop: ready once the logs are assigned. */
  @Override
  public Health health() {
    return loop.health();
  }

  /** Called on the following thread with each version put in force, after the registry has it. */
  public void onApplied(Consumer<AppliedSchedule> listener) {
    listeners.add(listener);
  }

  /** Completes once everything that was in the logs when following began has been read. */
  public CompletableFuture<Void> caughtUp() {
    return loop.caughtUp();
  }

  /** Waits for {@link #caughtUp()}, failing with a clear message after {@code timeout}. */
  public void awaitCaughtUp(Duration timeout) throws Exception {
    try {
      loop.caughtUp().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("schedule logs " + partitions + " not read within " + timeout, e);
    }
  }

  /**
   * Keeps only the newest {@code versions} versions per problem in memory from now on (at least 1); the status
   * endpoint shows these, {@code schedule history --bootstrap-servers} reads the whole log.
   */
  public ScheduleFollower keepingLast(int versions) {
    if (versions < 1) {
      throw new IllegalArgumentException("a follower keeps at least the version in force, not " + versions);
    }
    this.historyLimit = versions;
    return this;
  }

  private static int historyLimitFromEnvironment() {
    String v = System.getenv(HISTORY_LIMIT_ENV);
    try {
      return v == null || v.isBlank() ? DEFAULT_HISTORY_LIMIT : Math.max(1, Integer.parseInt(v.strip()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(HISTORY_LIMIT_ENV + " must be a whole number of versions, not " + v);
    }
  }

  /** The newest versions read for the problem (at most the history limit), oldest first. */
  public List<AppliedSchedule> history(String problem) {
    List<AppliedSchedule> h = history.get(problem);
    return h == null ? List.of() : List.copyOf(h);
  }

  /** The version in force for the problem, as read from its log. */
  public Optional<AppliedSchedule> current(String problem) {
    long version = registry.current(problem).map(ScheduleRegistry.Versioned::version).orElse(0L);
    return history(problem).stream().filter(a -> a.version() == version).findFirst();
  }

  /**
   * Waits until the version in force for the problem is at least {@code version}.
   *
   * @return false when it did not happen within the timeout
   */
  public boolean awaitVersion(String problem, long version, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (registry.current(problem).map(ScheduleRegistry.Versioned::version).orElse(0L) < version) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(5);
    }
    return true;
  }

  private void handle(Batch<String, byte[]> batch) {
    for (ConsumerRecord<String, byte[]> r : batch) {
      if (r.value() == null) {
        continue; // a tombstone: compaction's business, not a version
      }
      AppliedSchedule a = batch.decode(r, v -> Json.decode(v, AppliedSchedule.class));
      if (a != null) {
        take(a);
      }
    }
  }

  private void take(AppliedSchedule a) {
    List<AppliedSchedule> h = history.get(a.problem());
    if (h == null) {
      LOG.warn("schedule log holds version {} of problem {}, which is not followed here", a.version(), a.problem());
      return;
    }
    if (!h.isEmpty() && a.version() <= h.get(h.size() - 1).version()) {
      return; // read before (versions only grow in the log), even if no longer kept
    }
    Schedule schedule;
    try {
      schedule = ScheduleLoader.parse(a.yaml(), a.source());
    } catch (ScheduleException e) {
      LOG.error("schedule version {} of {} cannot be used here and is skipped: {}", a.version(), a.problem(),
          e.getMessage());
      return;
    }
    // Applied before it joins the history, so that a batch retried after apply threw tries it again.
    boolean inForce = registry.apply(schedule, a.version());
    h.add(a);
    while (h.size() > historyLimit) {
      h.remove(0); // oldest first: the version in force, the newest, stays
    }
    if (inForce) {
      for (Consumer<AppliedSchedule> l : listeners) {
        try {
          l.accept(a);
        } catch (RuntimeException e) {
          LOG.warn("schedule listener failed: {}", e.getMessage());
        }
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    loop.close();
  }
}
