package dev.rendezvous.runner;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.metrics.HdrTimer;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.metrics.ScoreHistogram;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model served by a {@link RunnerHost}: it takes the requests the host decoded from one poll, drops those
 * whose deadline has passed (counted, never scored), scores the rest in batches of at most its own
 * {@code batch_size}, and hands exactly one score per request to the host's producer, an error score when its
 * inference fails. It keeps the {@code rdv_runner_*} meters of its model (docs/metrics.md).
 *
 * <p>Threads: the model is called from the host's loop thread only, models one after the other, so its
 * {@link ScoringModel} need not be thread-safe. Two kinds of model get a thread of their own instead ({@link
 * #ownThread}), fed by a queue, which takes what has queued up and scores it as a runner's own loop would
 * (requests that arrive meanwhile are taken together next time; a request whose deadline passed while queued is
 * skipped): a fault-injected model ({@code fault_delay_ms}, {@code fault_delay_random_ms}), which waits before
 * each batch, and a model on the DJL engine, whose inference time the runner cannot bound. Their slowness then
 * delays their own scores only, never the other models of the host.
 */
public final class HostedModel {

  private static final Logger LOG = LoggerFactory.getLogger(HostedModel.class);

  private final RunnerConfig config;
  private final Clock clock;
  private final ScoringModel model;
  private final String scoresTopic;
  private final Producer<String, byte[]> producer;
  private final int maxTake;
  private final String device;
  private final AtomicLong scored = new AtomicLong();
  private final AtomicLong skippedExpired = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private final HdrTimer inferenceTime;
  private final HdrTimer scoreLatency;
  private final DistributionSummary batchSizes;
  private final Counter scoredCounter;
  private final Counter inferenceErrors;
  private final Counter incompatibleErrors;
  private final Counter skippedCounter;
  private final ScoreHistogram scores;
  /** Requests waiting for the model's own thread ({@link #ownThread}); null for a model on the loop thread. */
  private final LinkedBlockingQueue<InferenceRequest> ownQueue;
  private Thread worker;
  private volatile boolean running = true;

  /**
   * @param lag the host's input lag, reported per model as {@code rdv_runner_consumer_lag_records}
   * @param maxTake the most requests a model on its own thread takes from its queue at once (the host's
   *     {@code max.poll.records}, so that it batches as a runner of its own would)
   */
  HostedModel(RunnerConfig config, ScoringModel model, String scoresTopic, Producer<String, byte[]> producer,
      Clock clock, MeterRegistry metrics, LongSupplier lag, int maxTake) {
    this.config = config;
    this.clock = clock;
    this.model = model;
    this.scoresTopic = scoresTopic;
    this.producer = producer;
    this.maxTake = maxTake;
    this.device = model.device();
    this.ownQueue = ownThread(config) ? new LinkedBlockingQueue<>() : null;
    // Every meter names the model version: two versions of one model scoring side by side stay apart.
    Tags tags = Tags.of("problem", config.problem(), "model", config.modelId(), "version", config.modelVersion());
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
    Gauge.builder("rdv.runner.consumer.lag", lag::getAsLong).strongReference(true)
        .description("Input records not yet read by this runner, summed over its partitions")
        .baseUnit("records").tags(tags).register(metrics);
    Gauge.builder("rdv.runner.info", () -> 1).strongReference(true)
        .description("Always 1; labels say which model, version and role this runner serves and on which device")
        .tags(tags).tag("role", role).tag("device", device)
        .tag("runner", config.runnerId()).register(metrics);
    double startedAt = clock.nowMicros() / 1e6;
    Gauge.builder("rdv.runner.start.time", () -> startedAt).strongReference(true)
        .description("When this runner started, seconds since the epoch").baseUnit("seconds")
        .tags(tags).register(metrics);
    this.scores = new ScoreHistogram(metrics, config.problem(), config.modelId(), config.modelVersion(), role);
  }

  /**
   * Whether this model scores on a thread of its own rather than the host's loop thread: when it is made slow
   * on purpose (fault injection), and when its engine is DJL, whose inference time the runner cannot bound
   * (libtorch runs an OpenMP pool of its own). Measured on two busy cores at 100 req/s: bc-torch took 0.75 ms
   * per call at the median and 22 ms at p99, up to 99 ms, against bc-mlp's 0.27 and 9.7 ms on the same machine;
   * on the loop thread it made the models after it skip most of ObservabilityIT's requests as expired.
   */
  static boolean ownThread(RunnerConfig config) {
    return config.faultDelayMs() > 0 || config.faultDelayRandomMs() > 0 || config.engine().equals("djl");
  }

  public RunnerConfig config() {
    return config;
  }

  /** Requests scored (their score handed to the producer). */
  public long scored() {
    return scored.get();
  }

  /** Requests dropped unscored because their deadline had passed when this model got to them. */
  public long skippedExpired() {
    return skippedExpired.get();
  }

  /** Requests answered with an error score. */
  public long errors() {
    return errors.get();
  }

  /** Where this model really runs ({@code cpu} or {@code cuda:N}), as reported in its scores. */
  public String device() {
    return device;
  }

  /** Pays the model's first-call costs; on the host's loop thread, before the first poll. */
  void warmUp() {
    try {
      model.warmUp();
    } catch (Exception e) {
      LOG.warn("runner {} could not warm up its model: {}", config.modelId(), e.getMessage());
    }
  }

  /** Starts the thread of a model that has its own ({@link #ownThread}); nothing for any other. */
  void start(String hostName) {
    if (ownQueue == null) {
      return;
    }
    worker = new Thread(this::runOwn, hostName + "-" + config.modelId() + "-delayed");
    worker.setDaemon(true);
    worker.start();
  }

  /**
   * Takes one poll's requests, decoded once by the host and shared by every model (read-only). Scores them
   * now, on the caller's thread, or queues them for the model's own thread ({@link #ownThread}). Inference failures
   * become error scores; what throws out of here is the producer refusing a score, which the host's loop retries.
   */
  void accept(List<InferenceRequest> requests) {
    if (ownQueue != null) {
      ownQueue.addAll(requests);
      return;
    }
    score(requests);
  }

  private void runOwn() {
    List<InferenceRequest> taken = new ArrayList<>();
    while (running) {
      try {
        InferenceRequest first = ownQueue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        taken.clear();
        taken.add(first);
        ownQueue.drainTo(taken, maxTake - 1);
        score(taken);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.warn("runner {} could not hand its scores to the producer: {}", config.modelId(), e.toString());
      }
    }
  }

  private void score(List<InferenceRequest> requests) {
    long now = clock.nowMicros();
    List<InferenceRequest> live = new ArrayList<>(requests.size());
    for (InferenceRequest request : requests) {
      if (request.deadlineAtUs() <= now) {
        skippedExpired.incrementAndGet();
        skippedCounter.increment();
        continue;
      }
      String incompatibility;
      try {
        incompatibility = model.incompatibility(request);
      } catch (RuntimeException e) {
        // A model's bug must not fail the host's batch (that would make the other models score it twice).
        LOG.warn("runner {} failed to check request {}: {}", config.modelId(), request.requestId(), e.toString());
        errors.incrementAndGet();
        inferenceErrors.increment();
        send(request, null, e.getClass().getSimpleName() + ": " + e.getMessage(), now, 0);
        continue;
      }
      if (incompatibility != null) {
        errors.incrementAndGet();
        incompatibleErrors.increment();
        send(request, null, incompatibility, now, 0);
      } else {
        live.add(request);
      }
    }
    for (int from = 0; from < live.size() && running; from += config.batchSize()) {
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
      if (outputs.size() != batch.size()) {
        throw new IllegalStateException("the model returned " + outputs.size() + " outputs for " + batch.size()
            + " requests");
      }
    } catch (Exception e) {
      outputs = null;
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
    producer.send(new ProducerRecord<>(scoresTopic, r.requestId(), Json.encode(score)), (md, e) -> {
      if (e != null) {
        LOG.warn("runner {} could not write the score of {}: {}", config.modelId(), r.requestId(), e.getMessage());
      }
    });
  }

  /** Waits as the configured fault says; only ever on a fault-injected model's own thread. */
  private void injectFault() {
    double delayMs = config.faultDelayMs();
    if (config.faultDelayRandomMs() > 0) {
      delayMs += -Math.log(1 - ThreadLocalRandom.current().nextDouble()) * config.faultDelayRandomMs();
    }
    if (delayMs > 0) {
      try {
        TimeUnit.MICROSECONDS.sleep((long) (delayMs * 1000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        running = false;
      }
    }
  }

  /** Stops the model's own thread, if it has one (queued requests are dropped); call before closing the producer. */
  void stop() throws InterruptedException {
    running = false;
    if (worker != null) {
      worker.interrupt();
      worker.join(2_000);
    }
  }

  /** Releases the model; after {@link #stop}. */
  void close() throws Exception {
    model.close();
  }

  /** A short description for logs. */
  @Override
  public String toString() {
    return config.modelId() + " v" + config.modelVersion() + " (" + config.role().name().toLowerCase()
        + ", " + config.engine() + " on " + device + ", batch " + config.batchSize() + ")";
  }
}
