package dev.rendezvous.rendezvous;

import dev.rendezvous.common.Result;
import dev.rendezvous.common.Score;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * The meters of one problem's rendezvous ({@code rdv_rendezvous_*} in docs/metrics.md, all tagged with the
 * problem), fed by its {@link RendezvousTable} as a {@link RendezvousTable.Listener}. Recording happens on the
 * rendezvous's event loop; the gauges are read from the scrape thread, so they read only thread-safe state.
 */
public final class RendezvousMetrics implements RendezvousTable.Listener {

  private final MeterRegistry registry;
  private final Tags tags;
  private final AtomicInteger pending = new AtomicInteger();
  /** Meters made on first use, keyed by their variable tags. */
  private final Map<String, Counter> decisionCounters = new HashMap<>();
  private final Map<String, Counter> lateCounters = new HashMap<>();
  private final Map<String, Timer> arrivalTimers = new HashMap<>();
  private final Timer modelDecisionLatency;
  private final Timer defaultDecisionLatency;
  private final Counter slaMet;
  private final Counter slaMissed;
  private final Counter orphansDropped;
  private final List<KafkaClientMetrics> kafkaClients = new ArrayList<>();

  /**
   * Registers the rendezvous's meters with {@code registry}. One gauge per tier of the schedule in force now
   * reports its end; the other schedule gauges follow whatever {@code schedules} holds when scraped.
   */
  public RendezvousMetrics(MeterRegistry registry, String problem, ScheduleRegistry schedules) {
    this.registry = registry;
    this.tags = Tags.of("problem", problem);
    this.modelDecisionLatency = Metrics.latency(registry, "rdv.rendezvous.decision.latency",
        "Time from the proxy's receipt of a request to the rendezvous's decision", tags.and("outcome", "model"));
    this.defaultDecisionLatency = Metrics.latency(registry, "rdv.rendezvous.decision.latency",
        "Time from the proxy's receipt of a request to the rendezvous's decision", tags.and("outcome", "default"));
    this.slaMet = Counter.builder("rdv.rendezvous.sla").description("Decisions made by the request's deadline "
        + "(met) or after it (missed)").tags(tags).tag("result", "met").register(registry);
    this.slaMissed = Counter.builder("rdv.rendezvous.sla").description("Decisions made by the request's deadline "
        + "(met) or after it (missed)").tags(tags).tag("result", "missed").register(registry);
    this.orphansDropped = Counter.builder("rdv.rendezvous.orphans.dropped")
        .description("Scores dropped because their request never arrived within the orphan TTL")
        .tags(tags).register(registry);
    Gauge.builder("rdv.rendezvous.pending", pending, AtomicInteger::get).strongReference(true)
        .description("Requests read and not yet decided").baseUnit("requests").tags(tags).register(registry);
    Gauge.builder("rdv.rendezvous.schedule.version", schedules,
            s -> s.current(problem).map(v -> (double) v.version()).orElse(Double.NaN))
        .strongReference(true).description("Version of the schedule in force").tags(tags).register(registry);
    Gauge.builder("rdv.rendezvous.schedule.deadline", schedules,
            s -> s.current(problem).map(v -> v.schedule().deadlineMs() / 1000.0).orElse(Double.NaN))
        .strongReference(true).description("deadline_ms of the schedule in force").baseUnit("seconds")
        .tags(tags).register(registry);
    int tiers = schedules.current(problem).map(v -> v.schedule().tiers().size()).orElse(0);
    for (int i = 0; i < tiers; i++) {
      int tier = i;
      Gauge.builder("rdv.rendezvous.schedule.tier.end", schedules, s -> s.current(problem)
              .map(v -> tierEndSeconds(v.schedule(), tier)).orElse(Double.NaN))
          .strongReference(true).description("until_ms of each tier of the schedule in force").baseUnit("seconds")
          .tags(tags).tag("tier", Integer.toString(tier)).register(registry);
    }
  }

  private static double tierEndSeconds(Schedule schedule, int tier) {
    return tier < schedule.tiers().size() ? schedule.tiers().get(tier).untilMs() / 1000.0 : Double.NaN;
  }

  /** Binds Micrometer's Kafka client metrics ({@code component=rendezvous}) until {@link #close()}. */
  public void bindKafka(Consumer<?, ?> consumer, Producer<?, ?> producer) {
    kafkaClients.add(Metrics.bindKafka(registry, consumer, "rendezvous"));
    kafkaClients.add(Metrics.bindKafka(registry, producer, "rendezvous"));
  }

  /** Sets the gauge of requests read and not yet decided. */
  public void pending(int count) {
    pending.set(count);
  }

  @Override
  public void scoreArrived(Score score, long nowUs) {
    arrivalTimers.computeIfAbsent(score.modelId() + '@' + score.modelVersion(), k -> Metrics.latency(registry,
        "rdv.rendezvous.score.arrival",
        "Time from the proxy's receipt of a request to a model's score reaching the rendezvous",
        tags.and("model", score.modelId(), "version", String.valueOf(score.modelVersion()))))
        .record(Math.max(0, nowUs - score.receivedAtUs()), TimeUnit.MICROSECONDS);
  }

  @Override
  public void lateScore(Score score) {
    lateCounters.computeIfAbsent(score.modelId() + '@' + score.modelVersion(), k -> Counter.builder(
        "rdv.rendezvous.late.scores").description("Scores that arrived after their request was decided").tags(tags)
        .tag("model", score.modelId()).tag("version", String.valueOf(score.modelVersion())).register(registry))
        .increment();
  }

  @Override
  public void orphansDropped(int count) {
    orphansDropped.increment(count);
  }

  @Override
  public void decided(RendezvousTable.Answer answer) {
    Result result = answer.result();
    String tier = result.tier() == null ? "none" : result.tier().toString();
    String version = result.modelVersion() == null ? "none" : result.modelVersion();
    String key = result.answeredBy() + '|' + version + '|' + tier + '|' + result.reason();
    decisionCounters.computeIfAbsent(key, k -> Counter.builder("rdv.rendezvous.decisions")
        .description("Decisions, by who answered (model and version), in which tier and why").tags(tags)
        .tag("answered_by", result.answeredBy()).tag("version", version).tag("tier", tier)
        .tag("reason", result.reason()).register(registry)).increment();
    (result.isDefault() ? defaultDecisionLatency : modelDecisionLatency)
        .record(Math.round(result.elapsedMs() * 1000), TimeUnit.MICROSECONDS);
    (answer.metDeadline() ? slaMet : slaMissed).increment();
  }

  /** Unbinds the Kafka client metrics; the rendezvous's own meters stay registered. */
  public void close() {
    kafkaClients.forEach(KafkaClientMetrics::close);
    kafkaClients.clear();
  }
}
