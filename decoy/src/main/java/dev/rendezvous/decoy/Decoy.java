package dev.rendezvous.decoy;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The recorder. A dedicated thread reads a problem's input, scores and outcomes topics in the decoy's own
 * consumer group and appends every record to the archive ({@link SegmentWriter}), its value byte for byte.
 *
 * <p>Delivery: at least once, and nothing lost. Offsets are committed (synchronously) only after the records
 * before them were written and forced to disk, so a crash at any moment loses no record: what was not
 * committed is read again and written again, and {@link ArchiveReader#readDistinct} drops the second copy.
 * A new group starts at the earliest offset Kafka still holds, so a decoy started late archives history.
 * The decoy never writes to Kafka.
 */
public final class Decoy implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Decoy.class);

  private final DecoyConfig config;
  private final Clock clock;
  private final Topics topics;
  private final ArchiveLayout layout;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Map<Kind, SegmentWriter> writers = new EnumMap<>(Kind.class);
  private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
  private final Thread thread;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final CompletableFuture<Void> assigned = new CompletableFuture<>();
  private final AtomicLong archived = new AtomicLong();
  private final AtomicLong skippedWarmUp = new AtomicLong();
  private final AtomicLong committed = new AtomicLong();
  private int pendingRecords;
  private long lastSyncMs;
  private long nextSweepMs;

  public Decoy(DecoyConfig config, String bootstrapServers, Clock clock) {
    this.config = config;
    this.clock = clock;
    this.topics = Topics.of(config.problem());
    this.layout = new ArchiveLayout(config.archiveDir());
    String writerId = Long.toString(ProcessHandle.current().pid(), 36)
        + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
    for (Kind kind : List.of(Kind.INPUT, Kind.SCORE, Kind.OUTCOME)) {
      writers.put(kind, new SegmentWriter(layout, config.problem(), kind, writerId, config.segmentMaxBytes(),
          config.segmentMaxAgeMs(), clock));
    }
    this.consumer = new KafkaConsumer<>(consumerProps(bootstrapServers, config), new StringDeserializer(),
        new ByteArrayDeserializer());
    this.thread = new Thread(this::run, "decoy-" + config.problem());
    this.thread.setDaemon(true);
  }

  public Decoy start() {
    thread.start();
    return this;
  }

  /** Completes once the decoy owns partitions of its topics. */
  public CompletableFuture<Void> assigned() {
    return assigned;
  }

  public DecoyConfig config() {
    return config;
  }

  /** Records written to the archive (a record read twice after a crash counts twice). */
  public long archived() {
    return archived.get();
  }

  /** Warm-up requests seen and not archived. */
  public long skippedWarmUp() {
    return skippedWarmUp.get();
  }

  /** Records whose offsets have been committed, i.e. are durably archived. */
  public long committed() {
    return committed.get();
  }

  private void run() {
    try {
      consumer.subscribe(List.of(topics.input(), topics.scores(), topics.outcomes()), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          syncAndCommit(); // another member takes over from exactly what is on disk
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          if (!partitions.isEmpty()) {
            partitions.forEach(consumer::position);
            LOG.info("decoy for {} archives {} partition(s) to {}", config.problem(), partitions.size(),
                layout.problemDir(config.problem()));
            assigned.complete(null);
          }
        }
      });
      lastSyncMs = nowMs();
      while (running.get()) {
        sweepIfDue();
        ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(100));
        for (ConsumerRecord<String, byte[]> r : records) {
          archive(r);
        }
        if (pendingRecords >= config.flushMaxRecords()
            || (!pending.isEmpty() && nowMs() - lastSyncMs >= config.flushIntervalMs())) {
          syncAndCommit();
        }
      }
      syncAndCommit();
    } catch (WakeupException e) {
      if (running.get()) {
        LOG.error("decoy for {} woken unexpectedly", config.problem(), e);
      } else {
        syncAndCommit();
      }
    } catch (RuntimeException e) {
      LOG.error("decoy for {} stopped on an unexpected error; nothing after offsets last committed is lost, "
          + "a restart reads it again", config.problem(), e);
      assigned.completeExceptionally(e);
    } finally {
      for (SegmentWriter w : writers.values()) {
        try {
          w.close();
        } catch (IOException e) {
          LOG.warn("decoy could not close {}: {}", w.file(), e.getMessage());
        }
      }
      consumer.close(Duration.ofSeconds(2));
    }
  }

  private void archive(ConsumerRecord<String, byte[]> r) {
    Kind kind = r.topic().equals(topics.input()) ? Kind.INPUT
        : r.topic().equals(topics.scores()) ? Kind.SCORE : Kind.OUTCOME;
    String requestId = r.key() == null ? "" : r.key();
    String clientId = null;
    long receivedAt = 0;
    long deadlineAt = 0;
    boolean warmUp = false;
    if (kind == Kind.INPUT && r.value() != null) {
      try {
        InferenceRequest request = Json.decode(r.value(), InferenceRequest.class);
        requestId = request.requestId();
        clientId = request.clientId();
        receivedAt = request.receivedAtUs();
        deadlineAt = request.deadlineAtUs();
        warmUp = dev.rendezvous.common.WarmUp.isWarmUp(requestId);
      } catch (RuntimeException e) {
        // Kept all the same: the archive is for debugging too, and this record reached the models.
        LOG.warn("decoy: input record at {}-{} offset {} is not a valid request ({}); archived as it is",
            r.topic(), r.partition(), r.offset(), e.getMessage());
      }
    }
    if (warmUp && !config.recordWarmUp()) {
      skippedWarmUp.incrementAndGet();
    } else if (r.value() != null) {
      ArchivedRecord a = new ArchivedRecord(kind, requestId, clientId, receivedAt, deadlineAt, warmUp, r.topic(),
          r.partition(), r.offset(), r.timestamp(), clock.nowMicros(), r.value());
      try {
        writers.get(kind).append(a.toLine());
      } catch (IOException e) {
        throw new UncheckedIOException("decoy cannot write its archive under " + layout.root(), e);
      }
      archived.incrementAndGet();
    }
    pending.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
    pendingRecords++;
  }

  /** Makes everything written so far durable, then commits the offsets after it. */
  private void syncAndCommit() {
    if (pending.isEmpty()) {
      return;
    }
    try {
      for (SegmentWriter w : writers.values()) {
        w.sync();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("decoy cannot sync its archive under " + layout.root(), e);
    }
    consumer.commitSync(pending);
    committed.addAndGet(pendingRecords);
    pending.clear();
    pendingRecords = 0;
    lastSyncMs = nowMs();
  }

  private void sweepIfDue() {
    long now = nowMs();
    if (now >= nextSweepMs) {
      // Close segments that have aged while idle first, so that retention never deletes an open file.
      syncAndCommit();
      try {
        for (SegmentWriter w : writers.values()) {
          w.sync();
        }
      } catch (IOException e) {
        throw new UncheckedIOException("decoy cannot sync its archive under " + layout.root(), e);
      }
      Retention.sweep(layout, config.problem(), now, config.retentionHours());
      nextSweepMs = now + 600_000L;
    }
  }

  private long nowMs() {
    return clock.nowMicros() / 1000;
  }

  static Properties consumerProps(String bootstrapServers, DecoyConfig config) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, config.groupId() + "-" + ProcessHandle.current().pid());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "1");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
    // A replacement decoy takes over a dead one's partitions after this long, not Kafka's default 45 s.
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "2000");
    return p;
  }

  /** Stops reading, makes what was read durable and commits it. */
  @Override
  public void close() throws InterruptedException {
    running.set(false);
    consumer.wakeup();
    thread.join(10_000);
  }
}
