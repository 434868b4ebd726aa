package dev.rendezvous.runner;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.kafka.KafkaTopics;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.runtime.Batch;
import dev.rendezvous.runtime.CommitPolicy;
import dev.rendezvous.runtime.Component;
import dev.rendezvous.runtime.ConsumerLoop;
import dev.rendezvous.runtime.ErrorPolicy;
import dev.rendezvous.runtime.Health;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.ToIntFunction;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every model runner of one problem in one process, behind one input reader and one score writer: one {@link
 * ConsumerLoop} polls the input topic, each record is decoded once, and each poll's requests are handed to every
 * hosted model in turn ({@link HostedModel}: each skips the requests already expired when it gets to them,
 * batches by its own {@code batch_size}, keeps its own meters and writes exactly one score per request); one
 * {@link KafkaProducer} writes all their scores. A host of one model is a runner on its own.
 *
 * <p>Models are scored one after the other on the loop's thread, serving models before canaries, and among
 * those in the order of an optional rank ({@link #rankBy}: the embedded system ranks by the first tier of the
 * problem's current schedule that accepts the model, so the champion's score goes out first): inference takes
 * microseconds per batch, far less than a thread hand-off would cost. A model whose inference throws
 * answers its requests with error scores and the others go on. A fault-injected model (see {@link RunnerConfig})
 * and a model on the DJL engine (libtorch's own thread pool makes its inference time unbounded) score on a thread
 * of their own, so that their slowness holds back only their own scores ({@link HostedModel}).
 *
 * <p>Consumer group ({@link #groupId}): a host of one model reads in that model's {@code group_id} ({@code
 * rdv.<problem>.runner.<model_id>} unless configured), so an existing runner keeps its offsets; a host of
 * several reads in {@code rdv.<problem>.runner.<model@version, sorted, joined by '+'>}, unless every configuration
 * names the same {@code group_id}. Replicas of one host (the same set of models) thus share a group and split
 * the partitions, as replicas of one runner do; a model hosted in two different sets is scored by both.
 *
 * <p>Delivery: offsets are auto-committed on the poll after a batch's scores were handed to the producer, so a
 * request is scored at least once unless the process dies with scores still in the producer's buffer; such
 * requests would be past their deadline by the time a replacement reads them anyway. A new group starts at the
 * end of the topic: a new host scores live traffic, not history. A record that is not a request (it does not
 * decode, or lacks a request id, return address, deadline or inputs) is skipped, logged with its offset and
 * counted in {@code rdv_consumer_poison_skipped_total{loop, topic}}. When the producer refuses a score, the batch is handed
 * again after a backoff to the models that had not yet taken it (those that had are not asked twice), and
 * skipped after the last retry, since its requests are past their deadline by then.
 */
public final class RunnerHost implements Component {

  private static final Logger LOG = LoggerFactory.getLogger(RunnerHost.class);
  /** What a poll may return at most, unless a model's batch is larger: a few of the demo models' batches. */
  static final int MAX_POLL_RECORDS = 500;

  private final String problem;
  private final String groupId;
  private final List<HostedModel> models;
  private final ConsumerLoop<String, byte[]> loop;
  private final KafkaProducer<String, byte[]> producer;
  private final KafkaClientMetrics consumerMetrics;
  private final KafkaClientMetrics producerMetrics;
  private final Topics topics;

  // Loop thread only: the batch being handled, its requests decoded once, and the models that took it already.
  private Batch<String, byte[]> current;
  private List<InferenceRequest> decoded = List.of();
  private final Set<HostedModel> took = Collections.newSetFromMap(new IdentityHashMap<>());
  // The order the loop scores in, replaced whole when the rank says otherwise; null rank: configuration order.
  private volatile List<HostedModel> order;
  private volatile ToIntFunction<RunnerConfig> rank;
  private int[] orderRanks; // the ranks the order was sorted by; guarded by reorder's lock

  /** A host whose metrics are kept but not exported; for tests and tools. */
  public RunnerHost(List<RunnerConfig> configs, String bootstrapServers, Clock clock) throws Exception {
    this(configs, bootstrapServers, clock, new SimpleMeterRegistry());
  }

  /**
   * Opens every model (all of one problem, each model id once) and registers their meters ({@code
   * rdv_runner_*}, docs/metrics.md) and the loop's ({@code rdv_consumer_*}, loop {@link #loopName}) with
   * {@code metrics}. Nothing is read until {@link #start}.
   */
  public RunnerHost(List<RunnerConfig> configs, String bootstrapServers, Clock clock, MeterRegistry metrics)
      throws Exception {
    this.problem = problemOf(configs);
    this.groupId = groupId(problem, configs);
    this.topics = Topics.of(problem);
    // Serving models first: a canary never answers, so it waits for the others, not they for it.
    List<RunnerConfig> ordered = new ArrayList<>(configs);
    ordered.sort(Comparator.comparing(c -> c.role() == Role.CANARY));
    int maxBatch = ordered.stream().mapToInt(RunnerConfig::batchSize).max().orElse(1);
    int maxPoll = Math.max(maxBatch, MAX_POLL_RECORDS);
    String clientId = clientId(configs);
    this.producer = new KafkaProducer<>(producerProps(bootstrapServers, clientId), new StringSerializer(),
        new ByteArraySerializer());
    List<ScoringModel> opened = new ArrayList<>();
    ConsumerLoop<String, byte[]> reader = null;
    try {
      for (RunnerConfig config : ordered) {
        opened.add(ScoringModel.open(config));
      }
      reader = ConsumerLoop.builder(loopName(problem, configs), consumerProps(bootstrapServers, groupId, clientId, maxPoll),
              new StringDeserializer(), new ByteArrayDeserializer(), this::handle)
          .subscribe(List.of(topics.input()))
          .commit(CommitPolicy.auto(Duration.ofSeconds(1)))
          .errors(ErrorPolicy.retryThen(ErrorPolicy.Exhausted.SKIP))
          .onStart(this::warmUp)
          .metrics(metrics)
          .build();
      List<HostedModel> hosted = new ArrayList<>();
      for (int i = 0; i < ordered.size(); i++) {
        hosted.add(new HostedModel(ordered.get(i), opened.get(i), topics.scores(), producer, clock, metrics,
            reader::lag, maxPoll));
      }
      this.models = List.copyOf(hosted);
      this.order = models;
      this.loop = reader;
    } catch (Exception | Error e) {
      if (reader != null) {
        closeQuietly(reader);
      }
      for (ScoringModel m : opened) {
        closeQuietly(m);
      }
      producer.close(Duration.ZERO);
      throw e;
    }
    this.consumerMetrics = Metrics.bindKafka(metrics, loop.consumer(), "runner");
    this.producerMetrics = Metrics.bindKafka(metrics, producer, "runner");
  }

  private static String problemOf(List<RunnerConfig> configs) {
    if (configs.isEmpty()) {
      throw new IllegalArgumentException("a runner host needs at least one runner configuration");
    }
    String problem = configs.get(0).problem();
    Set<String> ids = new TreeSet<>();
    for (RunnerConfig c : configs) {
      if (!c.problem().equals(problem)) {
        throw new IllegalArgumentException("a runner host serves one problem: " + c.modelId() + " is for "
            + c.problem() + ", " + configs.get(0).modelId() + " for " + problem);
      }
      if (!ids.add(label(c))) {
        throw new IllegalArgumentException("model " + c.modelId() + " version " + c.modelVersion() + " of problem "
            + problem + " is configured twice for one runner host");
      }
    }
    return problem;
  }

  /**
   * The consumer group of a host of these models: the model's own {@code group_id} for one model, the {@code
   * group_id} every configuration names if they all name the same, else {@code rdv.<problem>.runner.} followed
   * by the sorted model ids joined by {@code +}.
   */
  public static String groupId(List<RunnerConfig> configs) {
    return groupId(problemOf(configs), configs);
  }

  private static String groupId(String problem, List<RunnerConfig> configs) {
    if (configs.stream().map(RunnerConfig::groupId).distinct().count() == 1) {
      return configs.get(0).groupId();
    }
    return "rdv." + problem + ".runner." + String.join("+", sortedIds(configs));
  }

  /** The loop's name (thread name and {@code loop} label): {@code runner-<problem>-<model@version, sorted, '+'>}. */
  public static String loopName(List<RunnerConfig> configs) {
    return loopName(problemOf(configs), configs);
  }

  private static String loopName(String problem, List<RunnerConfig> configs) {
    return "runner-" + problem + "-" + String.join("+", sortedIds(configs));
  }

  /** The hosted model versions as schedules name them, {@code <model_id>@<model_version>}, sorted. */
  private static List<String> sortedIds(List<RunnerConfig> configs) {
    return configs.stream().map(RunnerHost::label).sorted().toList();
  }

  private static String label(RunnerConfig c) {
    return c.modelId() + "@" + c.modelVersion();
  }

  /** The Kafka client id: the runner id of a host of one, else the model ids with this JVM's pid and host. */
  private static String clientId(List<RunnerConfig> configs) {
    if (configs.size() == 1) {
      return configs.get(0).runnerId();
    }
    return String.join("+", sortedIds(configs)) + "@" + ManagementFactory.getRuntimeMXBean().getName() + "-"
        + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 16));
  }

  /** Starts polling; {@link #assigned()} completes once this host owns input partitions. */
  @Override
  public RunnerHost start() {
    for (HostedModel m : models) {
      m.start(loop.name());
    }
    loop.start();
    return this;
  }

  /** Completes once every model is warm and this host owns input partitions, their positions resolved. */
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

  public String problem() {
    return problem;
  }

  /** The consumer group this host reads input in. */
  public String groupId() {
    return groupId;
  }

  /** The hosted models, serving models first, in the order of their configurations otherwise. */
  public List<HostedModel> models() {
    return models;
  }

  /**
   * Scores the models in the order of {@code rank} (lower first; ties keep their order), canaries still last.
   * The rank is asked again for every model at each poll that returned records, so it may follow something
   * that changes: the embedded system's follows the current schedule, and a champion rolled in by a schedule
   * change scores first from the next poll on. It must be cheap and must not throw.
   */
  public void rankBy(ToIntFunction<RunnerConfig> rank) {
    this.rank = rank;
    reorder();
  }

  /** The models in the order the loop scores them now. */
  public List<HostedModel> order() {
    return order;
  }

  /** Asks the rank for every model and sorts again only when an answer changed (each poll, on the loop). */
  private synchronized void reorder() {
    ToIntFunction<RunnerConfig> r = rank;
    if (r == null) {
      return;
    }
    int[] ranks = new int[models.size()];
    for (int i = 0; i < ranks.length; i++) {
      ranks[i] = r.applyAsInt(models.get(i).config());
    }
    if (Arrays.equals(ranks, orderRanks)) {
      return;
    }
    orderRanks = ranks;
    List<Integer> byRank = new ArrayList<>(ranks.length);
    for (int i = 0; i < ranks.length; i++) {
      byRank.add(i);
    }
    byRank.sort(Comparator.comparing((Integer i) -> models.get(i).config().role() == Role.CANARY)
        .thenComparingInt(i -> ranks[i]));
    order = byRank.stream().map(models::get).toList();
  }

  /** Pays the first-call costs (sessions, producer metadata) before the first request. */
  private void warmUp() {
    for (HostedModel m : models) {
      m.warmUp();
    }
    if (!KafkaTopics.prefetchMetadata(producer, topics.scores())) {
      LOG.warn("runner host {} has no metadata for {} yet; its first scores will fetch it", name(), topics.scores());
    }
  }

  private void handle(Batch<String, byte[]> batch) {
    if (batch != current) {
      current = batch;
      took.clear();
      List<InferenceRequest> requests = new ArrayList<>(batch.count());
      for (ConsumerRecord<String, byte[]> record : batch) {
        InferenceRequest request = batch.decode(record, InferenceRequest::fromJson);
        if (request != null) {
          requests.add(request);
        }
      }
      decoded = Collections.unmodifiableList(requests);
      reorder();
    }
    for (HostedModel m : order) {
      if (took.contains(m)) {
        continue; // a retry after the producer refused a later model's score: this one has its scores out
      }
      m.accept(decoded);
      took.add(m);
    }
  }

  static Properties consumerProps(String bootstrapServers, String groupId, String clientId, int maxPollRecords) {
    Properties p = KafkaSettings.consumerProperties(bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(maxPollRecords));
    return p;
  }

  static Properties producerProps(String bootstrapServers, String clientId) {
    Properties p = KafkaSettings.producerProperties(bootstrapServers);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
    return p;
  }

  /** Stops reading, then the models' own threads, then writes what the producer holds and closes. */
  @Override
  public void close() throws Exception {
    loop.close();
    for (HostedModel m : models) {
      m.stop();
    }
    consumerMetrics.close();
    producerMetrics.close();
    producer.close(Duration.ofSeconds(2));
    for (HostedModel m : models) {
      try {
        m.close();
      } catch (Exception e) {
        LOG.warn("runner host {} could not close model {}: {}", name(), m.config().modelId(), e.toString());
      }
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      LOG.warn("could not close {}: {}", c, e.toString());
    }
  }

  /**
   * A short description for logs and a runner process's READY line: the model of a host of one, as a runner
   * of its own has always printed it ({@code bc-mlp v2 (serving, onnxruntime on cpu, batch 64)}), else the
   * problem and every hosted model.
   */
  @Override
  public String toString() {
    return models.size() == 1 ? models.get(0).toString() : problem + " " + models;
  }
}
