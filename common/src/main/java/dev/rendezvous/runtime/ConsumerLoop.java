package dev.rendezvous.runtime;

import dev.rendezvous.common.Clock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a component reads Kafka with the plain client: a dedicated thread that subscribes (with a
 * group) or assigns (explicit partitions, from a {@link StartPosition}), polls, and hands each non-empty
 * batch to the component's {@link BatchHandler}; commits as its {@link CommitPolicy} says; retries a failing
 * batch with backoff and then skips it or fails, as its {@link ErrorPolicy} says; and stops cleanly on
 * {@link #close} (wake-up, join within a bound, close the consumer).
 *
 * <p>Nothing dies silently: a loop that stops on an error logs it, counts it in {@code
 * rdv_consumer_failures_total}, completes {@link #assigned()} and {@link #caughtUp()} exceptionally, and
 * reports a not-ready {@link #health()} with the reason, which the {@code rdv_consumer_ready} gauge shows
 * too. Meters (docs/metrics.md, {@code rdv_consumer_*}) carry a {@code loop} label with the loop's name.
 *
 * <p>Hooks (all optional, all run on the loop's thread): {@code onStart} before subscribing (a model's
 * warm-up), {@code onAssigned} / {@code onRevoked} in the rebalance callbacks, {@code flush} before a
 * {@link CommitPolicy.Kind#DURABLE} commit and {@code afterCommit} after it, {@code discard} when a DURABLE loop
 * goes back to its last commit, {@code afterPoll} after every poll whether it returned records or not
 * (time-driven work), and {@code onStop} last, before the consumer is closed, whether the loop stopped cleanly
 * or on an error.
 *
 * <p>A {@link CommitPolicy.Kind#DURABLE} loop retries differently: the component's writes since the last commit
 * may be half done when its handler, its flush or its {@code afterPoll} hook throws, so the loop asks it to
 * {@code discard} them, seeks every partition back to its last commit, waits the backoff and polls again. What
 * was handled since the last commit is thus handed again, once, and nothing after it is committed until a flush
 * succeeds. The loop is not ready from the first failure until the next successful commit; when the error
 * policy's retries (or its failing time) are spent it fails, whatever the policy says (skipping would commit
 * what was not written).
 */
public final class ConsumerLoop<K, V> implements Component {

  private static final Logger LOG = LoggerFactory.getLogger(ConsumerLoop.class);
  private static final long LAG_EVERY_NANOS = 500_000_000L;

  /** Where an assigned loop starts reading. */
  public enum StartPosition {
    /** The earliest offset the broker still holds. */
    BEGINNING,
    /** The end: only what is written after the loop starts. */
    END,
    /** The group's committed offsets, else the consumer's {@code auto.offset.reset}. */
    COMMITTED
  }

  /** A hook that may throw; an exception from it fails the loop (or, for flush, the commit). */
  @FunctionalInterface
  public interface Hook {
    void run() throws Exception;
  }

  private final String name;
  private final KafkaConsumer<K, V> consumer;
  private final BatchHandler<K, V> handler;
  private final Builder<K, V> spec;
  private final Clock clock;
  private final Thread thread;
  private final CompletableFuture<Void> assigned = new CompletableFuture<>();
  private final CompletableFuture<Void> caughtUp = new CompletableFuture<>();
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();
  private final CountDownLatch stopping = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile Health health = Health.down("not started");
  private volatile Throwable failure;
  private volatile Poisoned lastPoisoned;
  private final AtomicLong lag = new AtomicLong();
  private long lagMeasuredAtNanos;
  private Map<TopicPartition, Long> catchUpTo;

  // DURABLE commit state, loop thread only.
  private final Map<TopicPartition, OffsetAndMetadata> handled = new HashMap<>();
  private final Map<TopicPartition, Long> durable = new HashMap<>();
  private int handledSinceCommit;
  private long lastCommitUs;
  private int failuresInARow;
  private long failingSinceUs = -1;

  private final MeterRegistry registry;
  private final List<Meter> gauges = new ArrayList<>();
  private final Counter recordsCounter;
  private final Counter batchesCounter;
  private final Counter handlerErrors;
  private final Counter retries;
  private final Map<String, Counter> poisonSkipped = new java.util.concurrent.ConcurrentHashMap<>();
  private final Counter batchesSkipped;
  private final Counter failures;

  private ConsumerLoop(Builder<K, V> b) {
    this.spec = b;
    this.name = b.name;
    this.handler = b.handler;
    this.clock = b.clock;
    this.registry = b.registry;
    Properties props = new Properties();
    props.putAll(b.properties);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
        Boolean.toString(b.commit.kind() == CommitPolicy.Kind.AUTO));
    if (b.commit.kind() == CommitPolicy.Kind.AUTO && b.commit.autoInterval() != null) {
      props.put(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, Long.toString(b.commit.autoInterval().toMillis()));
    }
    if (b.commit.kind() != CommitPolicy.Kind.NONE && !props.containsKey(ConsumerConfig.GROUP_ID_CONFIG)) {
      throw new IllegalArgumentException("consumer loop " + name + " commits (" + b.commit.kind()
          + ") but has no group.id");
    }
    if (b.subscribeTopics != null && !props.containsKey(ConsumerConfig.GROUP_ID_CONFIG)) {
      throw new IllegalArgumentException("consumer loop " + name + " subscribes to " + b.subscribeTopics
          + " but has no group.id; assign partitions instead");
    }
    this.consumer = new KafkaConsumer<>(props, b.keyDeserializer, b.valueDeserializer);
    this.recordsCounter = counter("rdv.consumer.records", "Records polled by the loop (handed to its handler)");
    this.batchesCounter = counter("rdv.consumer.batches", "Non-empty polls handled (or skipped) by the loop");
    this.handlerErrors = counter("rdv.consumer.handler.errors", "Times the loop's handler threw on a batch");
    this.retries = counter("rdv.consumer.retries", "Batches handed again to the handler after a backoff");
    for (String topic : knownTopics(b)) {
      poisonCounter(topic);
    }
    this.batchesSkipped = counter("rdv.consumer.batches.skipped",
        "Batches given up after the last retry and skipped (their records were not handled)");
    this.failures = counter("rdv.consumer.failures", "Times the loop stopped on an error (it then reads nothing)");
    gauges.add(Gauge.builder("rdv.consumer.ready", this, l -> l.health.ready() ? 1 : 0)
        .description("1 while the loop reads and its handler succeeds, 0 before it is assigned, while it retries, "
            + "after it failed or stopped")
        .tag("loop", name).register(registry));
    gauges.add(Gauge.builder("rdv.consumer.lag", lag, AtomicLong::get).baseUnit("records")
        .description("Records not yet read by the loop, summed over its partitions (measured twice a second); for a "
            + "loop that commits only what is durable, records not yet committed")
        .tag("loop", name).register(registry));
    this.thread = new Thread(this::run, name);
    this.thread.setDaemon(true);
  }

  private Counter counter(String meter, String description) {
    return Counter.builder(meter).description(description).tag("loop", name).register(registry);
  }

  /** Registered for every topic known at build time, so that its series exists at 0 before the first poison. */
  private Counter poisonCounter(String topic) {
    return poisonSkipped.computeIfAbsent(topic, t -> Counter.builder("rdv.consumer.poison.skipped")
        .description("Records skipped because the handler could not decode them or they were not what the topic "
            + "holds")
        .tags("loop", name, "topic", t).register(registry));
  }

  private static java.util.Set<String> knownTopics(Builder<?, ?> b) {
    java.util.Set<String> topics = new java.util.TreeSet<>();
    if (b.subscribeTopics != null) {
      topics.addAll(b.subscribeTopics);
    }
    if (b.assignTopics != null) {
      topics.addAll(b.assignTopics);
    }
    if (b.assignPartitions != null) {
      b.assignPartitions.forEach(tp -> topics.add(tp.topic()));
    }
    return topics;
  }

  /**
   * A loop named {@code name} (its thread's name and its {@code loop} label) reading with a consumer made
   * from {@code properties}; {@code enable.auto.commit} is set from the commit policy.
   */
  public static <K, V> Builder<K, V> builder(String name, Properties properties, Deserializer<K> keys,
      Deserializer<V> values, BatchHandler<K, V> handler) {
    return new Builder<>(name, properties, keys, values, handler);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public ConsumerLoop<K, V> start() {
    health = Health.down("starting: waiting for partitions");
    thread.start();
    return this;
  }

  /**
   * Completes once the loop owns its partitions and their positions are resolved, so that with
   * {@code auto.offset.reset=latest} nothing written after this completes is skipped by a reset that would
   * otherwise happen later, at the first fetch. Completes exceptionally if the loop fails first.
   */
  public CompletableFuture<Void> assigned() {
    return assigned;
  }

  /**
   * Completes once the loop has read everything its partitions held when it was assigned (for an assigned
   * loop; a subscribed loop completes it with {@link #assigned()}).
   */
  public CompletableFuture<Void> caughtUp() {
    return caughtUp;
  }

  @Override
  public Health health() {
    return health;
  }

  /**
   * Completes when the loop's thread has ended: normally after {@link #close}, exceptionally with the error
   * when the loop failed. A process whose component must not stop silently exits on the latter.
   */
  public CompletableFuture<Void> terminated() {
    return terminated;
  }

  /** Why the loop stopped, or null while it runs or after a clean stop. */
  public Throwable failure() {
    return failure;
  }

  /**
   * Records not yet read, summed over the loop's partitions, as last measured (twice a second); for a {@link
   * CommitPolicy.Kind#DURABLE} loop, records not yet committed (read or not), which is what a failing flush holds
   * back.
   */
  public long lag() {
    return lag.get();
  }

  /** The loop's consumer, for binding its client metrics; only the loop's thread may call it otherwise. */
  public KafkaConsumer<K, V> consumer() {
    return consumer;
  }

  /**
   * For a {@link CommitPolicy.Kind#DURABLE} loop: flush, and commit what has been handled, now; the flush runs
   * even when nothing was handled since the last commit, so the caller need not flush again. Call on the loop's
   * thread only (from the handler or a hook); a failure is thrown to the caller, whose own failure makes the
   * loop go back to its last commit.
   */
  public void commitNow() throws Exception {
    if (Thread.currentThread() != thread) {
      throw new IllegalStateException("commitNow is for the thread of consumer loop " + name);
    }
    if (handled.isEmpty()) {
      spec.flush.run();
    } else {
      commitDurable();
    }
  }

  private void run() {
    boolean clean = false;
    try {
      spec.onStart.run();
      begin();
      while (running) {
        ConsumerRecords<K, V> records = consumer.poll(spec.pollTimeout);
        if (!records.isEmpty()) {
          handle(records);
        }
        if (!running) {
          break;
        }
        afterPoll();
      }
      clean = true;
    } catch (WakeupException e) {
      if (running) {
        fail(new IllegalStateException("woken unexpectedly", e));
      } else {
        clean = true;
      }
    } catch (Throwable e) {
      fail(e);
    }
    try {
      if (clean) {
        commitOnStop();
      }
    } catch (Throwable e) {
      LOG.warn("consumer loop {} could not commit on stop (what was not committed is read again): {}", name,
          e.toString());
    }
    try {
      spec.onStop.run();
    } catch (Throwable e) {
      LOG.warn("consumer loop {}: stop hook failed: {}", name, e.toString(), e);
    }
    try {
      consumer.close(Duration.ofSeconds(2));
    } catch (RuntimeException e) {
      LOG.warn("consumer loop {} could not close its consumer: {}", name, e.toString());
    }
    if (failure == null) {
      health = Health.down("stopped");
      assigned.completeExceptionally(new IllegalStateException("consumer loop " + name + " stopped"));
      caughtUp.completeExceptionally(new IllegalStateException("consumer loop " + name + " stopped"));
      terminated.complete(null);
    } else {
      terminated.completeExceptionally(failure);
    }
  }

  private void begin() {
    lastCommitUs = clock.nowMicros();
    if (spec.subscribeTopics != null) {
      consumer.subscribe(spec.subscribeTopics, new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          spec.onRevoked.accept(partitions);
          if (spec.commit.kind() == CommitPolicy.Kind.DURABLE) {
            try {
              commitDurable(); // the next owner starts exactly after what is durable
            } catch (WakeupException e) {
              throw e;
            } catch (Exception e) {
              // The next owner starts after the last commit; what this member kept reads again from there too.
              LOG.warn("consumer loop {} could not flush on revocation of {} ({}); nothing since the last commit is "
                  + "committed, and it is read again", name, partitions, e.toString());
              failing(e);
              discardSinceCommit();
            }
            partitions.forEach(durable::remove);
          } else {
            handled.clear();
          }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
          // Lost, not revoked: another member may own them already, so committing would be wrong.
          partitions.forEach(handled::remove);
          partitions.forEach(durable::remove);
          spec.onRevoked.accept(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          partitions.forEach(tp -> durable.put(tp, consumer.position(tp)));
          spec.onAssigned.accept(partitions);
          if (!assigned.isDone()) {
            health = Health.up();
          }
          assigned.complete(null);
          caughtUp.complete(null);
        }
      });
      return;
    }
    List<TopicPartition> partitions = new ArrayList<>();
    if (spec.assignPartitions != null) {
      partitions.addAll(spec.assignPartitions);
    }
    if (spec.assignTopics != null) {
      for (String topic : spec.assignTopics) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
          throw new IllegalStateException("topic " + topic + " has no partitions (does it exist?)");
        }
        for (PartitionInfo info : infos) {
          partitions.add(new TopicPartition(topic, info.partition()));
        }
      }
    }
    consumer.assign(partitions);
    switch (spec.startPosition) {
      case BEGINNING -> consumer.seekToBeginning(partitions);
      case END -> consumer.seekToEnd(partitions);
      case COMMITTED -> { }
    }
    partitions.forEach(tp -> durable.put(tp, consumer.position(tp)));
    catchUpTo = new HashMap<>(consumer.endOffsets(partitions));
    spec.onAssigned.accept(partitions);
    health = Health.up();
    assigned.complete(null);
    checkCaughtUp();
  }

  private void handle(ConsumerRecords<K, V> records) throws Exception {
    Batch<K, V> batch = new Batch<>(records, this::poison);
    if (spec.commit.kind() == CommitPolicy.Kind.DURABLE) {
      handleDurable(batch);
      return;
    }
    ErrorPolicy errors = spec.errors;
    long firstFailureUs = 0;
    for (int attempt = 0; ; attempt++) {
      try {
        handler.handle(batch);
        break;
      } catch (WakeupException e) {
        throw e; // a stop, not a handler error
      } catch (Exception e) {
        handlerErrors.increment();
        if (attempt == 0) {
          firstFailureUs = clock.nowMicros();
        }
        if (errors.exhausted(attempt + 1, Duration.ofNanos((clock.nowMicros() - firstFailureUs) * 1_000))) {
          if (errors.whenExhausted() == ErrorPolicy.Exhausted.SKIP) {
            batchesSkipped.increment();
            LOG.error("consumer loop {} skips the batch {} ({} records) after {} failures: {}", name,
                batch.describe(), batch.count(), attempt + 1, e.toString(), e);
            break;
          }
          throw new IllegalStateException("the handler failed " + (attempt + 1) + " times on the batch "
              + batch.describe() + ": " + e, e);
        }
        Duration wait = errors.backoff(attempt + 1);
        health = Health.down("retrying the batch " + batch.describe() + " after " + (attempt + 1) + " failure(s): "
            + e);
        LOG.warn("consumer loop {}: handler failed on the batch {} ({}); retry {} of {} in {} ms", name,
            batch.describe(), e.toString(), attempt + 1, errors.maxRetries(), wait.toMillis());
        if (stopping.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
          return; // stopping: the batch is not committed, and is read again by whoever reads next
        }
        retries.increment();
      }
    }
    health = Health.up();
    recordsCounter.increment(batch.count());
    batchesCounter.increment();
    if (spec.commit.kind() == CommitPolicy.Kind.AFTER_BATCH) {
      consumer.commitSync(batch.nextOffsets());
    }
  }

  private void handleDurable(Batch<K, V> batch) throws Exception {
    try {
      handler.handle(batch);
    } catch (WakeupException e) {
      throw e;
    } catch (Exception e) {
      handlerErrors.increment();
      rewind(e, "the batch " + batch.describe());
      return;
    }
    if (failingSinceUs < 0) {
      health = Health.up();
    }
    recordsCounter.increment(batch.count());
    batchesCounter.increment();
    handled.putAll(batch.nextOffsets());
    handledSinceCommit += batch.count();
  }

  /**
   * After a failure of a DURABLE loop's handler, flush or hook: drops what was handled since the last commit
   * (the component discards its writes, the partitions go back to their last commit), then fails the loop when
   * the error policy says so, or waits the backoff. The next poll reads from the last commit.
   */
  private void rewind(Exception e, String what) throws Exception {
    int failures = failing(e);
    discardSinceCommit();
    ErrorPolicy errors = spec.errors;
    Duration failingFor = Duration.ofNanos((clock.nowMicros() - failingSinceUs) * 1_000);
    if (errors.exhausted(failures, failingFor)) {
      throw new IllegalStateException("gave up after " + failures + " failure(s) in " + failingFor.toMillis()
          + " ms, the last on " + what + ": " + e, e);
    }
    Duration wait = errors.backoff(failures);
    health = Health.down("retrying from the last commit after " + failures + " failure(s) in "
        + failingFor.toMillis() + " ms, the last on " + what + ": " + e);
    LOG.warn("consumer loop {}: {} failed ({}); nothing since the last commit is committed: it is read again from "
        + "there in {} ms (failure {} in a row)", name, what, e.toString(), wait.toMillis(), failures);
    if (!stopping.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
      retries.increment();
    }
  }

  /** Counts a failure of the current run of failures and returns how many there were in a row. */
  private int failing(Exception e) {
    if (failingSinceUs < 0) {
      failingSinceUs = clock.nowMicros();
    }
    health = Health.down("failing: " + e);
    return ++failuresInARow;
  }

  private void discardSinceCommit() {
    try {
      spec.discard.run();
    } catch (Exception e) {
      LOG.warn("consumer loop {}: discard hook failed: {}", name, e.toString(), e);
    }
    handled.clear();
    handledSinceCommit = 0;
    for (TopicPartition tp : consumer.assignment()) {
      Long offset = durable.get(tp);
      if (offset != null) {
        consumer.seek(tp, offset);
      }
    }
  }

  /** A record skipped as poison: where it was and why. */
  public record Poisoned(String topic, int partition, long offset, String reason) {}

  /** The last record skipped as poison, or null. */
  public Poisoned lastPoisoned() {
    return lastPoisoned;
  }

  private void poison(ConsumerRecord<?, ?> record, Exception cause) {
    lastPoisoned = new Poisoned(record.topic(), record.partition(), record.offset(), cause.toString());
    poisonCounter(record.topic()).increment();
    LOG.warn("consumer loop {} skips the record at {}-{} offset {}: it cannot be used ({})", name, record.topic(),
        record.partition(), record.offset(), cause.toString());
  }

  private void afterPoll() throws Exception {
    checkCaughtUp();
    measureLag();
    if (spec.commit.kind() != CommitPolicy.Kind.DURABLE) {
      spec.afterPoll.run();
      return;
    }
    try {
      spec.afterPoll.run();
      if (!handled.isEmpty() && (handledSinceCommit >= spec.commit.maxRecords()
          || clock.nowMicros() - lastCommitUs >= spec.commit.maxInterval().toNanos() / 1_000)) {
        commitDurable();
      }
    } catch (WakeupException e) {
      throw e;
    } catch (Exception e) {
      rewind(e, "the flush and commit");
    }
  }

  /** Flushes and commits what was handled; does nothing when nothing was handled since the last commit. */
  private void commitDurable() throws Exception {
    if (handled.isEmpty()) {
      return;
    }
    spec.flush.run();
    try {
      consumer.commitSync(handled);
    } catch (WakeupException e) {
      if (running) {
        throw e;
      }
      // The stop's wake-up, pending since the last poll returned, is spent now: commit what was just flushed, or
      // the revocation when the consumer closes would find it still uncommitted and flush it a second time.
      consumer.commitSync(handled);
    }
    int records = handledSinceCommit;
    handled.forEach((tp, next) -> durable.put(tp, next.offset()));
    handled.clear();
    handledSinceCommit = 0;
    lastCommitUs = clock.nowMicros();
    if (failingSinceUs >= 0) {
      LOG.info("consumer loop {} recovered after {} failure(s) in {} ms: committed again", name, failuresInARow,
          (clock.nowMicros() - failingSinceUs) / 1000);
      failingSinceUs = -1;
      failuresInARow = 0;
      health = Health.up();
    }
    spec.afterCommit.accept(records);
  }

  private void commitOnStop() throws Exception {
    if (spec.commit.kind() == CommitPolicy.Kind.DURABLE) {
      commitDurable();
    }
  }

  private void checkCaughtUp() {
    if (caughtUp.isDone() || catchUpTo == null) {
      return;
    }
    for (Map.Entry<TopicPartition, Long> e : catchUpTo.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return;
      }
    }
    caughtUp.complete(null);
  }

  private void measureLag() {
    long now = System.nanoTime();
    if (now - lagMeasuredAtNanos < LAG_EVERY_NANOS) {
      return;
    }
    lagMeasuredAtNanos = now;
    long sum = 0;
    Set<TopicPartition> assignment = consumer.assignment();
    boolean durableLoop = spec.commit.kind() == CommitPolicy.Kind.DURABLE;
    for (TopicPartition tp : assignment) {
      OptionalLong l = consumer.currentLag(tp);
      sum += l.orElse(0);
      Long committedAt = durableLoop ? durable.get(tp) : null;
      if (committedAt != null && l.isPresent()) {
        sum += Math.max(0, consumer.position(tp) - committedAt); // read but not durable yet
      }
    }
    lag.set(sum);
  }

  private void fail(Throwable e) {
    failure = e;
    failures.increment();
    health = Health.down("failed: " + e);
    LOG.error("consumer loop {} stopped on an error and reads nothing more: {}", name, e.toString(), e);
    assigned.completeExceptionally(e);
    caughtUp.completeExceptionally(e);
  }

  /**
   * Stops the loop: wakes the consumer out of its poll (or the loop out of a backoff), waits up to the
   * builder's stop timeout for the thread to commit as its policy says and close the consumer, and removes
   * the loop's gauges. Counters stay, so that a loop restarted under the same name continues them.
   */
  @Override
  public void close() throws InterruptedException {
    running = false;
    stopping.countDown();
    if (thread.isAlive()) {
      consumer.wakeup();
      thread.join(spec.stopTimeout.toMillis());
      if (thread.isAlive()) {
        LOG.warn("consumer loop {} did not stop within {} ms", name, spec.stopTimeout.toMillis());
      }
    } else if (thread.getState() == Thread.State.NEW) {
      consumer.close(Duration.ofSeconds(2));
      health = Health.down("stopped");
    }
    for (Meter m : gauges) {
      registry.remove(m);
    }
    gauges.clear();
  }

  @Override
  public String toString() {
    return "consumer loop " + name;
  }

  /** How a {@link ConsumerLoop} reads; see the setters. */
  public static final class Builder<K, V> {
    private final String name;
    private final Properties properties;
    private final Deserializer<K> keyDeserializer;
    private final Deserializer<V> valueDeserializer;
    private final BatchHandler<K, V> handler;
    private Collection<String> subscribeTopics;
    private Collection<TopicPartition> assignPartitions;
    private Collection<String> assignTopics;
    private StartPosition startPosition = StartPosition.COMMITTED;
    private CommitPolicy commit = CommitPolicy.none();
    private ErrorPolicy errors = ErrorPolicy.retryThen(ErrorPolicy.Exhausted.SKIP);
    private Duration pollTimeout = Duration.ofMillis(200);
    private Duration stopTimeout = Duration.ofSeconds(10);
    private MeterRegistry registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    private Clock clock = Clock.SYSTEM;
    private Hook onStart = () -> { };
    private Consumer<Collection<TopicPartition>> onAssigned = p -> { };
    private Consumer<Collection<TopicPartition>> onRevoked = p -> { };
    private Hook flush = () -> { };
    private Hook discard = () -> { };
    private java.util.function.IntConsumer afterCommit = n -> { };
    private Hook afterPoll = () -> { };
    private Hook onStop = () -> { };

    private Builder(String name, Properties properties, Deserializer<K> keys, Deserializer<V> values,
        BatchHandler<K, V> handler) {
      this.name = Objects.requireNonNull(name, "name");
      this.properties = Objects.requireNonNull(properties, "properties");
      this.keyDeserializer = Objects.requireNonNull(keys, "keys");
      this.valueDeserializer = Objects.requireNonNull(values, "values");
      this.handler = Objects.requireNonNull(handler, "handler");
    }

    /** Read these topics as a member of the consumer's {@code group.id}. */
    public Builder<K, V> subscribe(Collection<String> topics) {
      this.subscribeTopics = List.copyOf(topics);
      return this;
    }

    /** Read exactly these partitions, without group membership, from {@code from}. */
    public Builder<K, V> assign(Collection<TopicPartition> partitions, StartPosition from) {
      this.assignPartitions = List.copyOf(partitions);
      this.startPosition = from;
      return this;
    }

    /** Read every partition of these topics (as they are when the loop starts), from {@code from}. */
    public Builder<K, V> assignAll(Collection<String> topics, StartPosition from) {
      this.assignTopics = List.copyOf(topics);
      this.startPosition = from;
      return this;
    }

    public Builder<K, V> commit(CommitPolicy policy) {
      this.commit = Objects.requireNonNull(policy);
      return this;
    }

    public Builder<K, V> errors(ErrorPolicy policy) {
      this.errors = Objects.requireNonNull(policy);
      return this;
    }

    /** How long a poll waits for records; also how often {@code afterPoll} runs when idle. */
    public Builder<K, V> pollTimeout(Duration d) {
      this.pollTimeout = Objects.requireNonNull(d);
      return this;
    }

    /** How long {@link ConsumerLoop#close} waits for the thread (default 10 s). */
    public Builder<K, V> stopTimeout(Duration d) {
      this.stopTimeout = Objects.requireNonNull(d);
      return this;
    }

    /** Where the {@code rdv_consumer_*} meters go (default: a registry nobody exports). */
    public Builder<K, V> metrics(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry);
      return this;
    }

    /** The time source of the {@link CommitPolicy.Kind#DURABLE} interval. */
    public Builder<K, V> clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock);
      return this;
    }

    public Builder<K, V> onStart(Hook hook) {
      this.onStart = Objects.requireNonNull(hook);
      return this;
    }

    public Builder<K, V> onAssigned(Consumer<Collection<TopicPartition>> hook) {
      this.onAssigned = Objects.requireNonNull(hook);
      return this;
    }

    public Builder<K, V> onRevoked(Consumer<Collection<TopicPartition>> hook) {
      this.onRevoked = Objects.requireNonNull(hook);
      return this;
    }

    /** Makes every handled record durable; runs before each {@link CommitPolicy.Kind#DURABLE} commit. */
    public Builder<K, V> flush(Hook hook) {
      this.flush = Objects.requireNonNull(hook);
      return this;
    }

    /**
     * Drops what the component wrote since its last successful flush; run when a {@link CommitPolicy.Kind#DURABLE}
     * loop goes back to its last commit after a failure, before the records are read again.
     */
    public Builder<K, V> discard(Hook hook) {
      this.discard = Objects.requireNonNull(hook);
      return this;
    }

    /** Told how many records a {@link CommitPolicy.Kind#DURABLE} commit covered, once it succeeded. */
    public Builder<K, V> afterCommit(java.util.function.IntConsumer hook) {
      this.afterCommit = Objects.requireNonNull(hook);
      return this;
    }

    public Builder<K, V> afterPoll(Hook hook) {
      this.afterPoll = Objects.requireNonNull(hook);
      return this;
    }

    public Builder<K, V> onStop(Hook hook) {
      this.onStop = Objects.requireNonNull(hook);
      return this;
    }

    public ConsumerLoop<K, V> build() {
      int ways = (subscribeTopics != null ? 1 : 0) + (assignPartitions != null || assignTopics != null ? 1 : 0);
      if (ways != 1) {
        throw new IllegalStateException("consumer loop " + name + " must either subscribe or assign");
      }
      return new ConsumerLoop<>(this);
    }
  }
}
