package dev.rendezvous.decoy;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Outcome;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.runtime.Batch;
import dev.rendezvous.runtime.CommitPolicy;
import dev.rendezvous.runtime.Component;
import dev.rendezvous.runtime.ConsumerLoop;
import dev.rendezvous.runtime.ErrorPolicy;
import dev.rendezvous.runtime.Health;
import dev.rendezvous.runtime.OffPathFetch;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
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
 * read again and written again, and {@link ArchiveReader#readDistinct} drops the second copy.
 *
 * <p>A full disk: when a write or a sync fails, the decoy cuts its segments back to what was last synced, its
 * loop goes back to the last commit and, after a backoff (0.1 s doubling to 5 s), reads and writes from there
 * again, so every record still lands in the archive once. Meanwhile it is not ready, {@code
 * rdv_decoy_failing{problem}} is 1 and {@code rdv_decoy_write_failures_total} counts the failures; once the
 * disk has room the next sync succeeds and it is ready again by itself. After {@link DecoyConfig#failAfterMs}
 * of failing (when not 0) it gives up: it stops reading, its health says why, {@code
 * rdv_consumer_failures_total{loop="decoy-<problem>"}} counts it and {@link #terminated()} completes
 * exceptionally, for the process to exit; a restart reads again from the last commit. A record that is not a
 * request, score or outcome is skipped, counted ({@code rdv_consumer_poison_skipped_total{loop, topic}}) and
 * logged with its offset. A new group starts at the earliest offset Kafka still holds, so a decoy started late
 * archives history. The decoy never writes to Kafka.
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
  private final MeterRegistry metrics;
  private final Map<Kind, Counter> archivedCounters = new EnumMap<>(Kind.class);
  private final Counter writeFailures;
  private final List<Meter> gauges = new ArrayList<>();
  private volatile boolean failing;
  private volatile long lastFailureMs;
  private volatile String lastError;
  // Loop thread only: lines appended since the last sync, per kind; durable (and counted) once it succeeds.
  private final Map<Kind, Integer> unsynced = new EnumMap<>(Kind.class);
  private long nextSweepMs;

  /** A decoy whose consumer meters are kept but not exported; for tools and tests. */
  public Decoy(DecoyConfig config, String bootstrapServers, Clock clock) {
    this(config, bootstrapServers, clock, new SimpleMeterRegistry());
  }

  /** A decoy that registers its {@code rdv_decoy_*} and its loop's {@code rdv_consumer_*} meters with {@code metrics}. */
  public Decoy(DecoyConfig config, String bootstrapServers, Clock clock, MeterRegistry metrics) {
    this(config, bootstrapServers, clock, metrics, SegmentWriter.FileOpener.DEFAULT);
  }

  /** The same, opening its segment files through {@code files} (tests put a disk that fills up there). */
  Decoy(DecoyConfig config, String bootstrapServers, Clock clock, MeterRegistry metrics,
      SegmentWriter.FileOpener files) {
    this.config = config;
    this.metrics = metrics;
    this.clock = clock;
    this.topics = Topics.of(config.problem());
    this.layout = new ArchiveLayout(config.archiveDir());
    String writerId = Long.toString(ProcessHandle.current().pid(), 36)
        + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
    for (Kind kind : List.of(Kind.INPUT, Kind.SCORE, Kind.OUTCOME)) {
      writers.put(kind, new SegmentWriter(layout, config.problem(), kind, writerId, config.segmentMaxBytes(),
          config.segmentMaxAgeMs(), clock, files));
      archivedCounters.put(kind, Counter.builder("rdv.decoy.archived")
          .description("Records archived and synced to disk (a record read again after a crash counts again)")
          .tags("problem", config.problem(), "kind", kind.name().toLowerCase()).register(metrics));
    }
    this.writeFailures = Counter.builder("rdv.decoy.write.failures")
        .description("Times the archive could not be written or synced (a full disk); each is retried")
        .tag("problem", config.problem()).register(metrics);
    gauges.add(Gauge.builder("rdv.decoy.failing", this, d -> d.failing ? 1 : 0)
        .description("1 from a failed write or sync until the next successful commit, else 0")
        .tag("problem", config.problem()).register(metrics));
    gauges.add(Gauge.builder("rdv.decoy.last.failure.timestamp", this, d -> d.lastFailureMs / 1000.0)
        .baseUnit("seconds").description("When the archive last failed to be written, epoch seconds; 0: never")
        .tag("problem", config.problem()).register(metrics));
    this.loop = ConsumerLoop.builder("decoy-" + config.problem(), consumerProps(bootstrapServers, config),
            new StringDeserializer(), new ByteArrayDeserializer(), this::archive)
        .subscribe(List.of(topics.input(), topics.scores(), topics.outcomes()))
        .commit(CommitPolicy.durable(config.flushMaxRecords(), Duration.ofMillis(config.flushIntervalMs())))
        .errors(ErrorPolicy.retryFor(config.failAfterMs() == 0 ? null : Duration.ofMillis(config.failAfterMs()),
            ErrorPolicy.Exhausted.FAIL))
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
        .discard(this::discardUnsynced)
        .afterCommit(this::committed)
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

  /**
   * Completes when the decoy has stopped: normally after {@link #close}, exceptionally when it gave up on a
   * failing archive ({@link DecoyConfig#failAfterMs}).
   */
  public CompletableFuture<Void> terminated() {
    return loop.terminated();
  }

  /**
   * Not ready before its partitions are assigned, while it cannot write (from the first failure until it commits
   * again), and after it gave up.
   */
  @Override
  public Health health() {
    return loop.health();
  }

  public DecoyConfig config() {
    return config;
  }

  /** The last error writing the archive, or null if there was none. */
  public String lastError() {
    return lastError;
  }

  /** True from a failed write or sync until the next successful commit. */
  public boolean failing() {
    return failing;
  }

  /** Records written to the archive and synced (a record read twice after a crash counts twice). */
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
      archive(batch, r);
    }
  }

  private void archive(Batch<String, byte[]> batch, ConsumerRecord<String, byte[]> r) {
    Kind kind = r.topic().equals(topics.input()) ? Kind.INPUT
        : r.topic().equals(topics.scores()) ? Kind.SCORE : Kind.OUTCOME;
    // The models skip what does not decode, and so does the archive: it holds what the models saw.
    Object message = batch.decode(r, v -> switch (kind) {
      case INPUT -> InferenceRequest.fromJson(v);
      case SCORE -> Score.fromJson(v);
      default -> Outcome.fromJson(v);
    });
    if (message == null) {
      return;
    }
    String requestId = r.key() == null ? "" : r.key();
    String clientId = null;
    long receivedAt = 0;
    long deadlineAt = 0;
    boolean warmUp = false;
    if (message instanceof InferenceRequest request) {
      requestId = request.requestId();
      clientId = request.clientId();
      receivedAt = request.receivedAtUs();
      deadlineAt = request.deadlineAtUs();
      warmUp = dev.rendezvous.common.WarmUp.isWarmUp(requestId);
    }
    if (warmUp && !config.recordWarmUp()) {
      skippedWarmUp.incrementAndGet();
      return;
    }
    ArchivedRecord a = new ArchivedRecord(kind, requestId, clientId, receivedAt, deadlineAt, warmUp, r.topic(),
        r.partition(), r.offset(), r.timestamp(), clock.nowMicros(), r.value());
    try {
      writers.get(kind).append(a.toLine());
    } catch (IOException e) {
      throw failed(new UncheckedIOException("decoy cannot write its archive under " + layout.root() + ": " + e, e));
    }
    unsynced.merge(kind, 1, Integer::sum);
  }

  /** Forces everything written so far to disk; the loop commits the offsets after it. */
  private void sync() {
    try {
      for (SegmentWriter w : writers.values()) {
        w.sync();
      }
    } catch (IOException e) {
      throw failed(new UncheckedIOException("decoy cannot sync its archive under " + layout.root() + ": " + e, e));
    }
    unsynced.forEach((kind, n) -> {
      archivedCounters.get(kind).increment(n);
      archived.addAndGet(n);
    });
    unsynced.clear();
  }

  private RuntimeException failed(RuntimeException e) {
    writeFailures.increment();
    failing = true;
    lastFailureMs = nowMs();
    lastError = e.getMessage();
    return e;
  }

  /** The loop goes back to its last commit: what was written since the last sync is written again, so cut it. */
  private void discardUnsynced() {
    for (SegmentWriter w : writers.values()) {
      w.discardUnsynced();
    }
    unsynced.clear();
  }

  private void committed(int records) {
    committed.addAndGet(records);
    if (failing) {
      failing = false;
      LOG.info("decoy for {} writes its archive again", config.problem());
    }
  }

  private void sweepIfDue() throws Exception {
    long now = nowMs();
    if (now >= nextSweepMs) {
      // Close segments that have aged while idle first (commitNow syncs, which rotates them), so that
      // retention never deletes an open file.
      loop.commitNow();
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
    // A replacement decoy takes over a dead one's partitions after this long, not Kafka's default 45 s.
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "2000");
    return OffPathFetch.apply(p);
  }

  /** Stops reading, makes what was read durable and commits it. */
  @Override
  public void close() throws InterruptedException {
    loop.close();
    gauges.forEach(metrics::remove);
    gauges.clear();
  }
}
