package dev.rendezvous.decoy;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.runtime.Batch;
import dev.rendezvous.runtime.CommitPolicy;
import dev.rendezvous.runtime.Component;
import dev.rendezvous.runtime.ConsumerLoop;
import dev.rendezvous.runtime.ErrorPolicy;
import dev.rendezvous.runtime.Health;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The recorder. Its {@link ConsumerLoop} reads a problem's input, scores and outcomes topics in the decoy's
 * own consumer group, and the decoy appends every record to the archive ({@link SegmentWriter}), its value
 * byte for byte.
 *
 * <p>Delivery: at least once, and nothing lost. Offsets are committed (synchronously, {@link
 * CommitPolicy.Kind#DURABLE}) only after the records before them were written and forced to disk: every
 * {@code flushIntervalMs} or {@code flushMaxRecords}, when partitions are revoked (another member takes over
 * from exactly what is on disk) and on stop. A crash at any moment loses no record: what was not committed is
 * read again and written again, and {@link ArchiveReader#readDistinct} drops the second copy. A batch that
 * cannot be written (a full disk) is retried with backoff; when the retries are spent the decoy stops reading
 * and says so: its health turns not-ready, {@code rdv_consumer_failures_total{loop="decoy-<problem>"}} counts
 * it, and the error is logged; nothing after the last commit is lost, a restart reads it again. A new group
 * starts at the earliest offset Kafka still holds, so a decoy started late archives history. The decoy never
 * writes to Kafka.
 */
public final class Decoy implements Component {

  private static final Logger LOG = LoggerFactory.getLogger(Decoy.class);

  private final DecoyConfig config;
  private final Clock clock;
  private final Topics topics;
  private final ArchiveLayout layout;
  private final ConsumerLoop<String, byte[]> loop;
  private final Map<Kind, SegmentWriter> writers = new EnumMap<>(Kind.class);
  private final AtomicLong archived = new AtomicLong();
  private final AtomicLong skippedWarmUp = new AtomicLong();
  private final AtomicLong committed = new AtomicLong();
  private long nextSweepMs;

  /** A decoy whose consumer meters are kept but not exported; for tools and tests. */
  public Decoy(DecoyConfig config, String bootstrapServers, Clock clock) {
    this(config, bootstrapServers, clock, new SimpleMeterRegistry());
  }

  /** A decoy whose consumer loop registers its {@code rdv_consumer_*} meters with {@code metrics}. */
  public Decoy(DecoyConfig config, String bootstrapServers, Clock clock, MeterRegistry metrics) {
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
    this.loop = ConsumerLoop.builder("decoy-" + config.problem(), consumerProps(bootstrapServers, config),
            new StringDeserializer(), new ByteArrayDeserializer(), this::archive)
        .subscribe(List.of(topics.input(), topics.scores(), topics.outcomes()))
        .commit(CommitPolicy.durable(config.flushMaxRecords(), Duration.ofMillis(config.flushIntervalMs())))
        .errors(ErrorPolicy.retryThen(ErrorPolicy.Exhausted.FAIL))
        .pollTimeout(Duration.ofMillis(100))
        .clock(clock)
        .metrics(metrics)
        .onAssigned(partitions -> {
          if (!partitions.isEmpty()) {
            LOG.info("decoy for {} archives {} partition(s) to {}", config.problem(), partitions.size(),
                layout.problemDir(config.problem()));
          }
        })
        .flush(this::sync)
        .afterCommit(committed::addAndGet)
        .afterPoll(this::sweepIfDue)
        .onStop(this::closeWriters)
        .build();
  }

  @Override
  public Decoy start() {
    loop.start();
    return this;
  }

  /** Completes once the decoy owns partitions of its topics (or fails when its loop does first). */
  public CompletableFuture<Void> assigned() {
    return loop.assigned();
  }

  @Override
  public String name() {
    return loop.name();
  }

  /** Not ready before its partitions are assigned, while a batch it could not write is retried, and after it gave up. */
  @Override
  public Health health() {
    return loop.health();
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

  private void archive(Batch<String, byte[]> batch) {
    for (ConsumerRecord<String, byte[]> r : batch) {
      archive(r);
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
  }

  /** Forces everything written so far to disk; the loop commits the offsets after it. */
  private void sync() {
    try {
      for (SegmentWriter w : writers.values()) {
        w.sync();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("decoy cannot sync its archive under " + layout.root(), e);
    }
  }

  private void sweepIfDue() throws Exception {
    long now = nowMs();
    if (now >= nextSweepMs) {
      // Close segments that have aged while idle first, so that retention never deletes an open file.
      loop.commitNow();
      sync();
      Retention.sweep(layout, config.problem(), now, config.retentionHours());
      nextSweepMs = now + 600_000L;
    }
  }

  private void closeWriters() {
    for (SegmentWriter w : writers.values()) {
      try {
        w.close();
      } catch (IOException e) {
        LOG.warn("decoy could not close {}: {}", w.file(), e.getMessage());
      }
    }
  }

  private long nowMs() {
    return clock.nowMicros() / 1000;
  }

  static Properties consumerProps(String bootstrapServers, DecoyConfig config) {
    Properties p = KafkaSettings.clientProperties(bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, config.groupId() + "-" + ProcessHandle.current().pid());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
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
    loop.close();
  }
}
