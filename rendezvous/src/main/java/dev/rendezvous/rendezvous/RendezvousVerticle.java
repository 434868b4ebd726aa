package dev.rendezvous.rendezvous;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import io.micrometer.core.instrument.Counter;
import dev.rendezvous.common.ReturnAddress;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.kafka.KafkaTopics;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One problem's rendezvous on Kafka. It reads the input topic (to learn when each request started and when it
 * must be answered) and the scores topic, hands each record to its {@link RendezvousTable}, and publishes the
 * answers the table returns to each request's return address. The decisions, the bounds and the sweeps are the
 * table's; this class only reads the clock, moves records and keeps one timer.
 *
 * <p>All state lives on this verticle's event loop: Kafka records and the one timer run there, so nothing is
 * locked. The timer is armed for {@link RendezvousTable#nextWakeUpMicros()} (the earliest tier start or cutoff
 * of any pending request, or the next sweep), which stays cheap with 100k requests pending.
 *
 * <p>Delivery: both topics are read in the group {@code rdv.<problem>.rendezvous} with the range assignor,
 * which gives one instance the same partitions of input and scores. Offsets are auto-committed; after a
 * crash or a rebalance, requests undecided at the time are answered by the proxy's own deadline guard.
 *
 * <p>Fail-over: a replica with an instance id ({@link RendezvousConfig#instanceId}) is a static member, whose
 * replacement with the same id owns its partitions again as soon as it joins; any other member that dies is
 * replaced after its session timeout ({@link KafkaSettings}: 6 s). docs/reliability.md has the figures.
 */
public final class RendezvousVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RendezvousVerticle.class);

  private final RendezvousConfig config;
  private final Clock clock;
  private final Topics topics;
  private final RendezvousMetrics metrics;
  private final RendezvousTable table;
  private final Map<String, Counter> poison;
  private final Promise<Void> assigned = Promise.promise();
  private KafkaConsumer<String, byte[]> consumer;
  private KafkaProducer<String, byte[]> producer;
  private long timerId = -1;
  private long timerAtUs = Long.MAX_VALUE;
  private volatile long subscribedAtNanos;

  /** A rendezvous whose metrics are kept but not exported; for tests and tools. */
  public RendezvousVerticle(RendezvousConfig config, ScheduleRegistry schedules, Clock clock) {
    this(config, schedules, clock, new SimpleMeterRegistry());
  }

  /** A rendezvous that registers its meters (docs/metrics.md, {@code rdv_rendezvous_*}) with {@code metrics}. */
  public RendezvousVerticle(RendezvousConfig config, ScheduleRegistry schedules, Clock clock, MeterRegistry metrics) {
    this.config = config;
    this.clock = clock;
    this.topics = Topics.of(config.problem());
    this.metrics = new RendezvousMetrics(metrics, config.problem(), schedules);
    this.table = new RendezvousTable(config, schedules, this.metrics);
    // The same meter as every consumer loop's, so one query covers every reader of a topic.
    this.poison = Map.of(topics.input(), poisonCounter(metrics, topics.input()),
        topics.scores(), poisonCounter(metrics, topics.scores()));
  }

  private Counter poisonCounter(MeterRegistry registry, String topic) {
    return Counter.builder("rdv.consumer.poison.skipped")
        .description("Records skipped because the handler could not decode them or they were not what the topic "
            + "holds")
        .tags("loop", "rendezvous-" + config.problem(), "topic", topic).register(registry);
  }

  @Override
  public Future<?> start() {
    consumer = KafkaConsumer.create(vertx, consumerSettings(config), new StringDeserializer(),
        new ByteArrayDeserializer());
    consumer.pollTimeout(Duration.ofMillis(100));
    consumer.partitionsAssignedHandler(partitions -> {
      if (!partitions.isEmpty()) {
        LOG.info("rendezvous {} owns {} ({} ms after it subscribed)", config.problem(), names(partitions),
            (System.nanoTime() - subscribedAtNanos) / 1_000_000);
      }
      assigned.tryComplete();
    });
    consumer.partitionsRevokedHandler(partitions -> {
      if (!partitions.isEmpty()) {
        LOG.info("rendezvous {} gives up {}", config.problem(), names(partitions));
      }
    });
    consumer.exceptionHandler(e -> {
      if (e instanceof FencedInstanceIdException) {
        LOG.error("rendezvous {}: another process joined group {} with this instance id ({}) and took its "
            + "partitions; every replica needs its own --instance-id (RDV_INSTANCE_ID)", config.problem(),
            group(config), config.instanceId());
      } else {
        LOG.warn("rendezvous {} consumer error: {}", config.problem(), e.getMessage());
      }
    });
    consumer.handler(this::onRecord);

    Map<String, String> producerProps = KafkaSettings.producer(config.bootstrapServers());
    producer = KafkaProducer.create(vertx, producerProps, new StringSerializer(), new ByteArraySerializer());
    metrics.bindKafka(consumer.unwrap(), producer.unwrap());

    // Fetching the results topic's metadata now spares the first decision that round trip.
    return vertx.executeBlocking(() -> KafkaTopics.prefetchMetadata(producer.unwrap(), topics.results()))
        .compose(fetched -> {
          if (!fetched) {
            LOG.warn("rendezvous {} has no metadata for {} yet; its first decision will fetch it", config.problem(),
                topics.results());
          }
          subscribedAtNanos = System.nanoTime();
          return consumer.subscribe(Set.of(topics.input(), topics.scores()));
        });
  }

  private static List<String> names(Set<io.vertx.kafka.client.common.TopicPartition> partitions) {
    return partitions.stream().map(tp -> tp.getTopic() + "-" + tp.getPartition()).sorted().toList();
  }

  /** The problem's consumer group, which every rendezvous replica of the problem joins. */
  public static String group(String problem) {
    return "rdv." + problem + ".rendezvous";
  }

  private static String group(RendezvousConfig config) {
    return group(config.problem());
  }

  /**
   * The consumer's settings: the request path's ({@link KafkaSettings#consumer}) in the problem's group, with
   * an assignor that keeps co-partitioned input and scores together (the range assignor, on the client with the
   * classic group protocol, on the broker with {@code group.protocol=consumer}) and, when configured, this
   * replica's instance id.
   */
  static Map<String, String> consumerSettings(RendezvousConfig config) {
    Map<String, String> props = KafkaSettings.consumer(config.bootstrapServers());
    props.put("group.id", group(config));
    if (KafkaSettings.usesConsumerProtocol(props)) {
      props.put("group.remote.assignor", "range");
    } else {
      props.put("partition.assignment.strategy", "org.apache.kafka.clients.consumer.RangeAssignor");
    }
    if (config.instanceId() != null) {
      props.put("group.instance.id", config.instanceId());
    }
    props.put("auto.offset.reset", "latest");
    props.put("enable.auto.commit", "true");
    return props;
  }

  /** Completes once this instance owns partitions of the problem's topics. */
  public Future<Void> assigned() {
    return assigned.future();
  }

  @Override
  public Future<?> stop() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
    metrics.close();
    Future<?> closed = Future.join(consumer.close(), producer.close());
    return config.instanceId() == null ? closed : closed.eventually(this::leaveGroup);
  }

  /**
   * A static member stays in its group after it closes (so that a restart with the same instance id finds its
   * partitions waiting); a replica that stops for good hands them to the others at once instead of after its
   * session timeout, by asking the group to remove it.
   */
  private Future<Void> leaveGroup() {
    return vertx.<Void>executeBlocking(() -> {
      try (Admin admin = Admin.create(KafkaSettings.adminProperties(config.bootstrapServers()))) {
        admin.removeMembersFromConsumerGroup(group(config), new RemoveMembersFromConsumerGroupOptions(
            List.of(new MemberToRemove(config.instanceId())))).all().get(5, TimeUnit.SECONDS);
      }
      return null;
    }).recover(e -> {
      LOG.warn("rendezvous {}: instance {} could not leave group {} ({}); its partitions move after its session "
          + "timeout", config.problem(), config.instanceId(), group(config), e.getMessage());
      return Future.succeededFuture();
    });
  }

  public long decisions() {
    return table.counts().decisions();
  }

  public long defaults() {
    return table.counts().defaults();
  }

  public long lateScores() {
    return table.counts().lateScores();
  }

  /** Scores dropped because their request never showed up on the input topic within the orphan TTL. */
  public long droppedOrphans() {
    return table.counts().droppedOrphans();
  }

  private void onRecord(KafkaConsumerRecord<String, byte[]> record) {
    boolean input = record.topic().equals(topics.input());
    InferenceRequest request = null;
    Score score = null;
    try {
      if (input) {
        request = InferenceRequest.fromJson(record.value());
      } else {
        score = Score.fromJson(record.value());
      }
    } catch (RuntimeException e) {
      poison.get(record.topic()).increment();
      LOG.warn("rendezvous {} skips the record at {}-{} offset {}: it cannot be used ({})", config.problem(),
          record.topic(), record.partition(), record.offset(), e.getMessage());
      return;
    }
    try {
      long now = clock.nowMicros();
      publish(input ? table.onInput(request, now) : table.onScore(score, now));
    } catch (RuntimeException e) {
      LOG.warn("rendezvous {} skipped record {}-{} offset {}: {}", config.problem(), record.topic(),
          record.partition(), record.offset(), e.getMessage());
    }
    rearm();
  }

  private void onTimer() {
    timerId = -1;
    timerAtUs = Long.MAX_VALUE;
    publish(table.onTick(clock.nowMicros()));
    rearm();
  }

  /** Keeps exactly one timer armed, for the table's next wake-up. */
  private void rearm() {
    metrics.pending(table.pendingCount());
    long atUs = table.nextWakeUpMicros();
    if (atUs == Long.MAX_VALUE || atUs >= timerAtUs) {
      return;
    }
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
    long delayMs = Math.max(1, (atUs - clock.nowMicros() + 999) / 1000);
    timerAtUs = atUs;
    timerId = vertx.setTimer(delayMs, id -> onTimer());
  }

  private void publish(List<RendezvousTable.Answer> answers) {
    for (RendezvousTable.Answer answer : answers) {
      String requestId = answer.request().requestId();
      ReturnAddress to;
      try {
        to = ReturnAddress.parse(answer.request().returnAddress());
      } catch (IllegalArgumentException e) {
        LOG.warn("request {} has a bad return address: {}", requestId, e.getMessage());
        continue;
      }
      producer.send(KafkaProducerRecord.create(to.topic(), requestId, Json.encode(answer.result()), null,
              to.partition()))
          .onFailure(e -> LOG.warn("result for {} not written: {}", requestId, e.getMessage()));
    }
  }
}
