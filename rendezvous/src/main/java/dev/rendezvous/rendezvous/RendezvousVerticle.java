package dev.rendezvous.rendezvous;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Result;
import dev.rendezvous.common.ReturnAddress;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.Decision;
import dev.rendezvous.schedule.PendingRequest;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One problem's rendezvous. It reads the input topic (to learn when each request started and when it must
 * be answered) and the scores topic, holds a bounded table of undecided requests, and publishes one result
 * per request to the request's return address as the schedule in force decides.
 *
 * <p>All state lives on this verticle's event loop: Kafka records, the one timer and the sweeps all run
 * there, so nothing is locked. Pending requests wait in a deadline queue served by a single Vert.x timer
 * armed for the earliest wake-up, which stays cheap with 100k requests pending.
 *
 * <p>Delivery: both topics are read in the group {@code rdv.<problem>.rendezvous} with the range assignor,
 * which gives one instance the same partitions of input and scores. Offsets are auto-committed; after a
 * crash or a rebalance, requests undecided at the time are answered by the proxy's own deadline guard.
 */
public final class RendezvousVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RendezvousVerticle.class);

  private record Entry(InferenceRequest request, PendingRequest state, ScheduleRegistry.Versioned schedule,
      double readAtMs) {}

  private record Wake(long atUs, String requestId) {}

  private record Orphan(Score score, long arrivedAtUs) {}

  private final RendezvousConfig config;
  private final ScheduleRegistry schedules;
  private final Clock clock;
  private final Topics topics;
  private final Map<String, Entry> pending = new HashMap<>();
  private final PriorityQueue<Wake> wakes = new PriorityQueue<>((a, b) -> Long.compare(a.atUs, b.atUs));
  private final LinkedHashMap<String, List<Orphan>> orphans = new LinkedHashMap<>();
  private final LinkedHashMap<String, Long> decided = new LinkedHashMap<>();
  private final Promise<Void> assigned = Promise.promise();
  private final AtomicLong decisions = new AtomicLong();
  private final AtomicLong defaults = new AtomicLong();
  private final AtomicLong lateScores = new AtomicLong();
  private final AtomicLong droppedOrphans = new AtomicLong();
  private final MeterRegistry metrics;
  private final Tags tags;
  private final AtomicInteger pendingCount = new AtomicInteger();
  private final Map<String, Counter> decisionCounters = new HashMap<>();
  private final Map<String, Counter> lateCounters = new HashMap<>();
  private final Map<String, Timer> arrivalTimers = new HashMap<>();
  private final Timer modelDecisionLatency;
  private final Timer defaultDecisionLatency;
  private final Counter slaMet;
  private final Counter slaMissed;
  private final Counter orphansDropped;
  private KafkaClientMetrics consumerMetrics;
  private KafkaClientMetrics producerMetrics;
  private KafkaConsumer<String, byte[]> consumer;
  private KafkaProducer<String, byte[]> producer;
  private long timerId = -1;
  private long timerAtUs = Long.MAX_VALUE;
  private long sweepTimerId = -1;

  /** A rendezvous whose metrics are kept but not exported; for tests and tools. */
  public RendezvousVerticle(RendezvousConfig config, ScheduleRegistry schedules, Clock clock) {
    this(config, schedules, clock, new SimpleMeterRegistry());
  }

  /** A rendezvous that registers its meters (docs/metrics.md, {@code rdv_rendezvous_*}) with {@code metrics}. */
  public RendezvousVerticle(RendezvousConfig config, ScheduleRegistry schedules, Clock clock, MeterRegistry metrics) {
    this.config = config;
    this.schedules = schedules;
    this.clock = clock;
    this.topics = Topics.of(config.problem());
    this.metrics = metrics;
    this.tags = Tags.of("problem", config.problem());
    String problem = config.problem();
    this.modelDecisionLatency = Metrics.latency(metrics, "rdv.rendezvous.decision.latency",
        "Time from the proxy's receipt of a request to the rendezvous's decision", tags.and("outcome", "model"));
    this.defaultDecisionLatency = Metrics.latency(metrics, "rdv.rendezvous.decision.latency",
        "Time from the proxy's receipt of a request to the rendezvous's decision", tags.and("outcome", "default"));
    this.slaMet = Counter.builder("rdv.rendezvous.sla").description("Decisions made by the request's deadline "
        + "(met) or after it (missed)").tags(tags).tag("result", "met").register(metrics);
    this.slaMissed = Counter.builder("rdv.rendezvous.sla").description("Decisions made by the request's deadline "
        + "(met) or after it (missed)").tags(tags).tag("result", "missed").register(metrics);
    this.orphansDropped = Counter.builder("rdv.rendezvous.orphans.dropped")
        .description("Scores dropped because their request never arrived within the orphan TTL")
        .tags(tags).register(metrics);
    Gauge.builder("rdv.rendezvous.pending", pendingCount, AtomicInteger::get).strongReference(true)
        .description("Requests read and not yet decided").baseUnit("requests").tags(tags).register(metrics);
    Gauge.builder("rdv.rendezvous.schedule.version", schedules,
            s -> s.current(problem).map(v -> (double) v.version()).orElse(Double.NaN))
        .strongReference(true).description("Version of the schedule in force").tags(tags).register(metrics);
    Gauge.builder("rdv.rendezvous.schedule.deadline", schedules,
            s -> s.current(problem).map(v -> v.schedule().deadlineMs() / 1000.0).orElse(Double.NaN))
        .strongReference(true).description("deadline_ms of the schedule in force").baseUnit("seconds")
        .tags(tags).register(metrics);
    int tiers = schedules.current(problem).map(v -> v.schedule().tiers().size()).orElse(0);
    for (int i = 0; i < tiers; i++) {
      int tier = i;
      Gauge.builder("rdv.rendezvous.schedule.tier.end", schedules, s -> s.current(problem)
              .map(v -> tierEndSeconds(v.schedule(), tier)).orElse(Double.NaN))
          .strongReference(true).description("until_ms of each tier of the schedule in force").baseUnit("seconds")
          .tags(tags).tag("tier", Integer.toString(tier)).register(metrics);
    }
  }

  private static double tierEndSeconds(Schedule schedule, int tier) {
    return tier < schedule.tiers().size() ? schedule.tiers().get(tier).untilMs() / 1000.0 : Double.NaN;
  }

  @Override
  public Future<?> start() {
    Map<String, String> consumerProps = KafkaSettings.consumer(config.bootstrapServers());
    consumerProps.put("group.id", "rdv." + config.problem() + ".rendezvous");
    consumerProps.put("partition.assignment.strategy",
        "org.apache.kafka.clients.consumer.RangeAssignor");
    consumerProps.put("auto.offset.reset", "latest");
    consumerProps.put("enable.auto.commit", "true");
    consumer = KafkaConsumer.create(vertx, consumerProps, new StringDeserializer(), new ByteArrayDeserializer());
    consumer.pollTimeout(Duration.ofMillis(100));
    consumer.partitionsAssignedHandler(partitions -> assigned.tryComplete());
    consumer.exceptionHandler(e -> LOG.warn("rendezvous {} consumer error: {}", config.problem(), e.getMessage()));
    consumer.handler(this::onRecord);
    consumerMetrics = Metrics.bindKafka(metrics, consumer.unwrap(), "rendezvous");

    Map<String, String> producerProps = KafkaSettings.producer(config.bootstrapServers());
    producer = KafkaProducer.create(vertx, producerProps, new StringSerializer(), new ByteArraySerializer());
    producerMetrics = Metrics.bindKafka(metrics, producer.unwrap(), "rendezvous");

    sweepTimerId = vertx.setPeriodic(1_000, id -> sweep());
    // Fetching the results topic's metadata now spares the first decision that round trip.
    return producer.partitionsFor(topics.results())
        .compose(p -> consumer.subscribe(Set.of(topics.input(), topics.scores())));
  }

  /** Completes once this instance owns partitions of the problem's topics. */
  public Future<Void> assigned() {
    return assigned.future();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweepTimerId);
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
    consumerMetrics.close();
    producerMetrics.close();
    return Future.join(consumer.close(), producer.close());
  }

  public long decisions() {
    return decisions.get();
  }

  public long defaults() {
    return defaults.get();
  }

  public long lateScores() {
    return lateScores.get();
  }

  /** Scores dropped because their request never showed up on the input topic within the orphan TTL. */
  public long droppedOrphans() {
    return droppedOrphans.get();
  }

  private void onRecord(KafkaConsumerRecord<String, byte[]> record) {
    try {
      if (record.topic().equals(topics.input())) {
        onRequest(Json.decode(record.value(), InferenceRequest.class));
      } else {
        onScore(Json.decode(record.value(), Score.class));
      }
    } catch (RuntimeException e) {
      LOG.warn("rendezvous {} skipped record {}-{} offset {}: {}", config.problem(), record.topic(),
          record.partition(), record.offset(), e.getMessage());
    }
    rearm();
  }

  private void onRequest(InferenceRequest request) {
    String id = request.requestId();
    if (pending.containsKey(id) || decided.containsKey(id)) {
      return; // a redelivered request: already being decided, or decided
    }
    ScheduleRegistry.Versioned versioned = schedules.current(config.problem()).orElse(null);
    if (versioned == null) {
      LOG.warn("rendezvous {} has no schedule; request {} left to the proxy's deadline guard",
          config.problem(), id);
      return;
    }
    long now = clock.nowMicros();
    Entry entry = new Entry(request, new PendingRequest(versioned.schedule(), id, request.receivedAtUs(),
        request.deadlineAtUs()), versioned, (now - request.receivedAtUs()) / 1000.0);
    if (pending.size() >= config.maxPending()) {
      publish(entry, null, "overload", now);
      return;
    }
    List<Orphan> early = orphans.remove(id);
    if (early != null) {
      for (Orphan o : early) {
        Decision d = entry.state().onScore(o.score(), o.arrivedAtUs()).orElse(null);
        if (d != null) {
          publish(entry, d, null, now);
          return;
        }
      }
    }
    Decision d = entry.state().onTime(now).orElse(null);
    if (d != null) {
      publish(entry, d, null, now);
      return;
    }
    pending.put(id, entry);
    wakes.add(new Wake(entry.state().nextWakeupUs(), id));
  }

  private void onScore(Score score) {
    long now = clock.nowMicros();
    arrivalTimers.computeIfAbsent(score.modelId(), m -> Metrics.latency(metrics, "rdv.rendezvous.score.arrival",
        "Time from the proxy's receipt of a request to a model's score reaching the rendezvous",
        tags.and("model", m))).record(Math.max(0, now - score.receivedAtUs()), TimeUnit.MICROSECONDS);
    Entry entry = pending.get(score.requestId());
    if (entry == null) {
      if (decided.containsKey(score.requestId())) {
        lateScores.incrementAndGet();
        lateCounters.computeIfAbsent(score.modelId(), m -> Counter.builder("rdv.rendezvous.late.scores")
            .description("Scores that arrived after their request was decided").tags(tags).tag("model", m)
            .register(metrics)).increment();
      } else {
        orphans.computeIfAbsent(score.requestId(), k -> new ArrayList<>(2)).add(new Orphan(score, now));
      }
      return;
    }
    entry.state().onScore(score, now).ifPresent(d -> {
      pending.remove(score.requestId());
      publish(entry, d, null, now);
    });
  }

  private void onTimer() {
    timerId = -1;
    timerAtUs = Long.MAX_VALUE;
    long now = clock.nowMicros();
    while (!wakes.isEmpty() && wakes.peek().atUs() <= now) {
      Wake wake = wakes.poll();
      Entry entry = pending.get(wake.requestId());
      if (entry == null) {
        continue; // decided by a score since this wake-up was queued
      }
      Decision d = entry.state().onTime(now).orElse(null);
      if (d != null) {
        pending.remove(wake.requestId());
        publish(entry, d, null, now);
      } else {
        wakes.add(new Wake(entry.state().nextWakeupUs(), wake.requestId()));
      }
    }
    rearm();
  }

  /** Keeps exactly one timer armed, for the earliest queued wake-up. */
  private void rearm() {
    pendingCount.set(pending.size());
    Wake head = wakes.peek();
    if (head == null || head.atUs() >= timerAtUs) {
      return;
    }
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
    long delayMs = Math.max(1, (head.atUs() - clock.nowMicros() + 999) / 1000);
    timerAtUs = head.atUs();
    timerId = vertx.setTimer(delayMs, id -> onTimer());
  }

  private void publish(Entry entry, Decision d, String overrideReason, long now) {
    InferenceRequest r = entry.request();
    ScheduleRegistry.Versioned versioned = entry.schedule();
    boolean isDefault = d == null || d.isDefault();
    Result result = new Result(
        r.requestId(),
        r.clientId(),
        r.problem(),
        isDefault ? Result.DEFAULT : d.chosen().modelId(),
        isDefault ? null : d.chosen().modelVersion(),
        isDefault ? null : d.tier(),
        isDefault,
        overrideReason != null ? overrideReason : d.reason(),
        d != null ? d.elapsedMs() : (now - r.receivedAtUs()) / 1000.0,
        isDefault ? versioned.schedule().defaultOutputs(r.inputs().get(0).rows()) : d.chosen().outputs(),
        versioned.version(),
        d != null ? d.arrivals() : List.of(),
        now);
    if (LOG.isDebugEnabled()) {
      LOG.debug("decided {} at {} ms: {} (tier {}, {}); read at {} ms; arrivals {}", r.requestId(), result.elapsedMs(),
          result.answeredBy(), result.tier(), result.reason(), entry.readAtMs(), result.arrivals());
    }
    decided.put(r.requestId(), now);
    decisions.incrementAndGet();
    record(result, now, r.deadlineAtUs());
    if (isDefault) {
      defaults.incrementAndGet();
    }
    ReturnAddress to;
    try {
      to = ReturnAddress.parse(r.returnAddress());
    } catch (IllegalArgumentException e) {
      LOG.warn("request {} has a bad return address: {}", r.requestId(), e.getMessage());
      return;
    }
    producer.send(KafkaProducerRecord.create(to.topic(), r.requestId(), Json.encode(result), null, to.partition()))
        .onFailure(e -> LOG.warn("result for {} not written: {}", r.requestId(), e.getMessage()));
  }

  private void record(Result result, long now, long deadlineAtUs) {
    String tier = result.tier() == null ? "none" : result.tier().toString();
    String key = result.answeredBy() + '|' + tier + '|' + result.reason();
    decisionCounters.computeIfAbsent(key, k -> Counter.builder("rdv.rendezvous.decisions")
        .description("Decisions, by who answered, in which tier and why").tags(tags)
        .tag("answered_by", result.answeredBy()).tag("tier", tier).tag("reason", result.reason())
        .register(metrics)).increment();
    (result.isDefault() ? defaultDecisionLatency : modelDecisionLatency)
        .record(Math.round(result.elapsedMs() * 1000), TimeUnit.MICROSECONDS);
    (now <= deadlineAtUs ? slaMet : slaMissed).increment();
  }

  private void sweep() {
    long now = clock.nowMicros();
    long orphanLimit = now - config.orphanTtlMs() * 1000;
    for (Iterator<List<Orphan>> it = orphans.values().iterator(); it.hasNext(); ) {
      List<Orphan> list = it.next();
      if (list.get(0).arrivedAtUs() > orphanLimit) {
        break;
      }
      droppedOrphans.addAndGet(list.size());
      orphansDropped.increment(list.size());
      it.remove();
    }
    long decidedLimit = now - config.decidedTtlMs() * 1000;
    for (Iterator<Long> it = decided.values().iterator(); it.hasNext(); ) {
      if (it.next() > decidedLimit) {
        break;
      }
      it.remove();
    }
  }
}
