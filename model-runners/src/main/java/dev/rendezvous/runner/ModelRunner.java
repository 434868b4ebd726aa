package dev.rendezvous.runner;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.metrics.HdrTimer;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.metrics.ScoreHistogram;
import dev.rendezvous.runtime.Batch;
import dev.rendezvous.runtime.CommitPolicy;
import dev.rendezvous.runtime.Component;
import dev.rendezvous.runtime.ConsumerLoop;
import dev.rendezvous.runtime.ErrorPolicy;
import dev.rendezvous.runtime.Health;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores every request of one problem with one model. Its {@link ConsumerLoop} polls the input topic; it drops
 * requests whose deadline has passed (counted, never scored), scores the rest in batches of at most
 * {@code batch_size}, and writes one score per request, an error score when inference fails.
 *
 * <p>Delivery: offsets are auto-committed on the poll after a batch's scores were handed to the producer,
 * so a request is scored at least once unless the process dies with scores still in the producer's
 * buffer; such requests would be past their deadline by the time a replacement reads them anyway. A new
 * consumer group starts at the end of the topic: a new model scores live traffic, not history. A record that
 * is not a request is skipped (counted in {@code rdv_consumer_poison_skipped_total}); a batch whose handling
 * throws (the producer refusing a score, say) is retried with backoff and then skipped, since its requests
 * are past their deadline by then.
 */
public final class ModelRunner implements Component {

  private static final Logger LOG = LoggerFactory.getLogger(ModelRunner.class);

  private final RunnerConfig config;
  private final Clock clock;
  private final ScoringModel model;
  private final Topics topics;
  private final ConsumerLoop<String, byte[]> loop;
  private final KafkaProducer<String, byte[]> producer;
  private final AtomicLong scored = new AtomicLong();
  private final AtomicLong skippedExpired = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private final String device;
  private final HdrTimer inferenceTime;
  private final HdrTimer scoreLatency;
  private final DistributionSummary batchSizes;
  private final Counter scoredCounter;
  private final Counter inferenceErrors;
  private final Counter incompatibleErrors;
  private final Counter skippedCounter;
  private final ScoreHistogram scores;
  private final KafkaClientMetrics consumerMetrics;
  private final KafkaClientMetrics producerMetrics;

  /** A runner whose metrics are kept but not exported; for tests and tools. */
  public ModelRunner(RunnerConfig config, String bootstrapServers, Clock clock) throws Exception {
    this(config, bootstrapServers, clock, new SimpleMeterRegistry());
  }

  /** A runner that registers its meters (see docs/metrics.md, {@code rdv_runner_*}) with {@code metrics}. */
  public ModelRunner(RunnerConfig config, String bootstrapServers, Clock clock, MeterRegistry metrics)
      throws Exception {
    this.config = config;
    this.clock = clock;
    this.topics = Topics.of(config.problem());
    this.model = ScoringModel.open(config);
    this.device = model.device();
    this.loop = ConsumerLoop.builder("runner-" + config.problem() + "-" + config.modelId(),
            consumerProps(bootstrapServers, config), new StringDeserializer(), new ByteArrayDeserializer(),
            this::handle)
        .subscribe(List.of(topics.input()))
        .commit(CommitPolicy.auto(Duration.ofSeconds(1)))
        .errors(ErrorPolicy.retryThen(ErrorPolicy.Exhausted.SKIP))
        .onStart(this::warmUp)
        .metrics(metrics)
        .build();
    this.producer = new KafkaProducer<>(producerProps(bootstrapServers, config.runnerId()),
        new StringSerializer(), new ByteArraySerializer());
    Tags tags = Tags.of("problem", config.problem(), "model", config.modelId());
    String role = config.role().name().toLowerCase();
    this.inferenceTime = new HdrTimer(metrics, "rdv.runner.inference",
        "Time in the model call (ONNX Runtime) per batch", tags);
    this.scoreLatency = new HdrTimer(metrics, "rdv.runner.score.latency",
        "Time from the proxy's receipt of a request to its score being ready", tags);
    this.batchSizes = Metrics.batchSizes(metrics, "rdv.runner.batch.size", "Requests per model call", tags);
    this.scoredCounter = Counter.builder("rdv.runner.scored").description("Requests scored")
        .tags(tags).register(metrics);
    this.inferenceErrors = Counter.builder("rdv.runner.errors").description("Requests answered with an error score")
        .tags(tags).tag("kind", "inference").register(metrics);
    this.incompatibleErrors = Counter.builder("rdv.runner.errors")
        .description("Requests answered with an error score").tags(tags).tag("kind", "incompatible")
        .register(metrics);
    this.skippedCounter = Counter.builder("rdv.runner.skipped.expired")
        .description("Requests dropped unscored because their deadline had passed when read")
        .tags(tags).register(metrics);
    Gauge.builder("rdv.runner.consumer.lag", loop, ConsumerLoop::lag).strongReference(true)
        .description("Input records not yet read by this runner, summed over its partitions")
        .baseUnit("records").tags(tags).register(metrics);
    Gauge.builder("rdv.runner.info", () -> 1).strongReference(true)
        .description("Always 1; labels say which model, version and role this runner serves and on which device")
        .tags(tags).tag("version", config.modelVersion()).tag("role", role).tag("device", device)
        .tag("runner", config.runnerId()).register(metrics);
    double startedAt = clock.nowMicros() / 1e6;
    Gauge.builder("rdv.runner.start.time", () -> startedAt).strongReference(true)
        .description("When this runner started, seconds since the epoch").baseUnit("seconds")
        .tags(tags).tag("version", config.modelVersion()).register(metrics);
    this.scores = new ScoreHistogram(metrics, config.problem(), config.modelId(), config.modelVersion(), role);
    this.consumerMetrics = Metrics.bindKafka(metrics, loop.consumer(), "runner");
    this.producerMetrics = Metrics.bindKafka(metrics, producer, "runner");
  }

  /** Starts polling; {@link #assigned()} completes once this runner owns input partitions. */
  @Override
  public ModelRunner start() {
    loop.start();
    return this;
  }

  /** Completes once the model is warm and this runner owns input partitions, their positions resolved. */
  public CompletableFuture<Void> assigned() {
    return loop.assigned();
  }

  @Override
  public String name() {
    return loop.name();
  }

  /** The health of its consumer loop: ready once assigned, not ready while a batch is retried or after a failure. */
  @Override
  public Health health() {
    return loop.health();
  }

  public RunnerConfig config() {
    return config;
  }

  public long scored() {
    return scored.get();
  }

  public long skippedExpired() {
    return skippedExpired.get();
  }

  public long errors() {
    return errors.get();
  }

  /** Where this runner's model really runs ({@code cpu} or {@code cuda:N}), as reported in its scores. */
  public String device() {
    return device;
  }

  /** Pays the first-call costs (session initialisation, producer metadata) before the first request. */
  private void warmUp() {
    try {
      model.warmUp();
    } catch (Exception e) {
      LOG.warn("runner {} could not warm up its model: {}", config.modelId(), e.getMessage());
    }
    // Fetched now so that the first score does not wait for it; each attempt waits max.block.ms at most (half a
    // second by default, see KafkaSettings), so a slow broker gets retries, and a send fetches it anyway.
    for (int attempt = 1; ; attempt++) {
      try {
        producer.partitionsFor(topics.scores());
        return;
      } catch (org.apache.kafka.common.KafkaException e) {
        if (attempt >= 60) {
          LOG.warn("runner {} has no metadata for {} yet: {}", config.modelId(), topics.scores(), e.getMessage());
          return;
        }
      }
    }
  }

  private void handle(Batch<String, byte[]> records) {
    long now = clock.nowMicros();
    List<InferenceRequest> live = new ArrayList<>(records.count());
    for (ConsumerRecord<String, byte[]> record : records) {
      InferenceRequest request = records.decode(record, v -> Json.decode(v, InferenceRequest.class));
      if (request == null) {
        continue;
      }
      if (request.deadlineAtUs() <= now) {
        skippedExpired.incrementAndGet();
        skippedCounter.increment();
        continue;
      }
      String incompatibility = model.incompatibility(request);
      if (incompatibility != null) {
        errors.incrementAndGet();
        incompatibleErrors.increment();
        send(request, null, incompatibility, now, 0);
      } else {
        live.add(request);
      }
    }
    for (int from = 0; from < live.size(); from += config.batchSize()) {
      scoreBatch(live.subList(from, Math.min(live.size(), from + config.batchSize())));
    }
  }

  private void scoreBatch(List<InferenceRequest> batch) {
    injectFault();
    long start = System.nanoTime();
    List<List<Tensor>> outputs = null;
    String error = null;
    try {
      outputs = model.score(batch);
    } catch (Exception e) {
      error = e.getClass().getSimpleName() + ": " + e.getMessage();
      LOG.warn("runner {} failed to score a batch of {}: {}", config.modelId(), batch.size(), error);
    }
    long inferenceNanos = System.nanoTime() - start;
    long inferenceUs = inferenceNanos / 1_000;
    long scoredAt = clock.nowMicros();
    for (int i = 0; i < batch.size(); i++) {
      send(batch.get(i), outputs == null ? null : outputs.get(i), error, scoredAt, inferenceUs);
    }
    inferenceTime.record(inferenceNanos);
    batchSizes.record(batch.size());
    if (error == null) {
      scored.addAndGet(batch.size());
      scoredCounter.increment(batch.size());
      for (int i = 0; i < batch.size(); i++) {
        InferenceRequest r = batch.get(i);
        scoreLatency.record((scoredAt - r.receivedAtUs()) * 1_000);
        if (ScoreHistogram.counts(r.requestId()) && !outputs.get(i).isEmpty()) {
          for (double v : outputs.get(i).get(0).data()) {
            scores.record(v);
          }
        }
      }
    } else {
      errors.addAndGet(batch.size());
      inferenceErrors.increment(batch.size());
    }
  }

  private void send(InferenceRequest r, List<Tensor> outputs, String error, long scoredAt, long inferenceUs) {
    Score score = new Score(r.requestId(), config.modelId(), config.modelVersion(), config.role(), outputs, error,
        config.runnerId(), device, r.receivedAtUs(), scoredAt, inferenceUs);
    producer.send(new ProducerRecord<>(topics.scores(), r.requestId(), Json.encode(score)), (md, e) -> {
      if (e != null) {
        LOG.warn("runner {} could not write the score of {}: {}", config.modelId(), r.requestId(), e.getMessage());
      }
    });
  }

  private void injectFault() {
    double delayMs = config.faultDelayMs();
    if (config.faultDelayRandomMs() > 0) {
      delayMs += -Math.log(1 - java.util.concurrent.ThreadLocalRandom.current().nextDouble())
          * config.faultDelayRandomMs();
    }
    if (delayMs > 0) {
      try {
        TimeUnit.MICROSECONDS.sleep((long) (delayMs * 1000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  static Properties consumerProps(String bootstrapServers, RunnerConfig config) {
    Properties p = KafkaSettings.consumerProperties(bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, config.runnerId());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(Math.max(config.batchSize(), 500)));
    return p;
  }

  static Properties producerProps(String bootstrapServers, String clientId) {
    Properties p = KafkaSettings.producerProperties(bootstrapServers);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    return p;
  }

  @Override
  public void close() throws Exception {
    loop.close();
    consumerMetrics.close();
    producerMetrics.close();
    producer.close(Duration.ofSeconds(2));
    model.close();
  }

  /** A short description for logs. */
  @Override
  public String toString() {
    return config.modelId() + " v" + config.modelVersion() + " (" + config.role().name().toLowerCase()
        + ", " + config.engine() + " on " + device + ", batch " + config.batchSize() + ")";
  }

}
