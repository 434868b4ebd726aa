package dev.rendezvous.rollout;

import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleException;
import dev.rendezvous.schedule.ScheduleLoader;
import dev.rendezvous.schedule.ScheduleRegistry;
import java.time.Duration;
import java.util.ArrayList;
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
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the schedule logs of some problems and puts each version it reads in force in a
 * {@link ScheduleRegistry}, so that every process (proxy and each rendezvous instance) runs the versions
 * in the same order. It reads from the beginning, so it also holds each problem's history.
 *
 * <p>A dedicated thread polls with the raw Kafka consumer, without a consumer group and without committing:
 * every follower reads the whole log (a few kilobytes per version). A version not newer than the one in
 * force is ignored, so versions only move forward. A record that no longer parses (written by a newer
 * release, say) is logged and skipped, and the schedule in force stays.
 */
public final class ScheduleFollower implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ScheduleFollower.class);

  private final ScheduleRegistry registry;
  private final Set<TopicPartition> partitions;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Map<String, List<AppliedSchedule>> history = new ConcurrentHashMap<>();
  private final List<Consumer<AppliedSchedule>> listeners = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Void> caughtUp = new CompletableFuture<>();
  private final Thread thread;
  private volatile boolean running = true;
  private volatile int historyLimit = historyLimitFromEnvironment();

  /** Default of how many versions per problem a follower keeps in memory (the log keeps them all). */
  public static final int DEFAULT_HISTORY_LIMIT = 20;

  /** The environment variable that changes {@link #DEFAULT_HISTORY_LIMIT}. */
  public static final String HISTORY_LIMIT_ENV = "RDV_SCHEDULE_HISTORY";

  /** Creates each problem's log if missing and starts following from its beginning. */
  public ScheduleFollower(String bootstrapServers, Set<String> problems, ScheduleRegistry registry) {
    this.registry = registry;
    for (String p : problems) {
      ScheduleLog.ensureTopic(bootstrapServers, p);
      history.put(p, new CopyOnWriteArrayList<>());
    }
    this.partitions = ScheduleLog.partitions(problems);
    this.consumer = ScheduleLog.consumer(bootstrapServers);
    this.thread = new Thread(this::run, "schedule-follower");
    thread.setDaemon(true);
  }

  /** Starts the following thread. */
  public ScheduleFollower start() {
    thread.start();
    return this;
  }

  /** Called on the following thread with each version put in force, after the registry has it. */
  public void onApplied(Consumer<AppliedSchedule> listener) {
    listeners.add(listener);
  }

  /** Completes once everything that was in the logs when following began has been read. */
  public CompletableFuture<Void> caughtUp() {
    return caughtUp;
  }

  /** Waits for {@link #caughtUp()}, failing with a clear message after {@code timeout}. */
  public void awaitCaughtUp(Duration timeout) throws Exception {
    try {
      caughtUp.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
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

  private void run() {
    try {
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      while (running) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          AppliedSchedule a = ScheduleLog.decode(r);
          if (a != null) {
            take(a);
          }
        }
        if (!caughtUp.isDone() && ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
          caughtUp.complete(null);
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      LOG.error("schedule follower stopped: {}", e.getMessage(), e);
      caughtUp.completeExceptionally(e);
    } finally {
      consumer.close(Duration.ofSeconds(2));
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
    h.add(a);
    while (h.size() > historyLimit) {
      h.remove(0); // oldest first: the version in force, the newest, stays
    }
    if (registry.apply(schedule, a.version())) {
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
    running = false;
    if (thread.isAlive()) {
      consumer.wakeup();
      thread.join(5_000);
    } else if (thread.getState() == Thread.State.NEW) {
      consumer.close(Duration.ofSeconds(2));
    }
  }
}
