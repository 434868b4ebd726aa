package dev.rendezvous.proxy;

import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.kafka.KafkaTopics;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.schedule.ScheduleRegistry;
import dev.rendezvous.ui.StatusPage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.Router;
import io.vertx.kafka.client.producer.KafkaProducer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy of one process: {@link ProxyConfig#instances()} {@link ProxyVerticle}s, each on an event loop of its
 * own, all serving the same port (Vert.x shares one listening socket between the verticles that listen on the same
 * address and hands each new connection to the next of them in turn), each reading results from a partition of
 * its own ({@link ProxyConfig#resultsPartition(int)}), so that a result comes back to the event loop that holds its
 * request and one event loop no longer limits what the proxy can take.
 *
 * <p>What the instances share is made here, once per process: the Kafka producers (one client for requests and one
 * for outcomes, which batch every instance's records together; each instance sends through a handle of its own,
 * whose worker queue no other instance waits in), the admission limits ({@link Admission#forEventLoops}), the
 * Kafka reachability check, the admin executor for the work off the request path ({@link AdminExecutor}), the
 * status page, the warm-up key and the gauge of requests in flight. Deploying this verticle deploys the instances;
 * undeploying it undeploys them first.
 */
public final class Proxy extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(Proxy.class);

  final ProxyConfig config;
  final ScheduleRegistry schedules;
  final Clock clock;
  final Predicate<String> backendReady;
  final BiConsumer<Router, WorkerExecutor> extraRoutes;
  final MeterRegistry metrics;
  final AccessControl access;
  final StatusPage statusPage;
  final WarmUpKey warmUpKey = new WarmUpKey();
  final RecordLimit recordLimit;
  final Map<String, String> producerSettings;
  final String producerName;
  final String outcomeProducerName;
  final Map<String, String> outcomeProducerSettings;
  private final AdmissionConfig admissionConfig;
  private final List<Admission> admissions;
  private final Map<String, LongAdder> inFlight = new HashMap<>();
  private final List<ProxyVerticle> instances = new ArrayList<>();
  private WorkerExecutor admin;
  private CoalescedScrape scrapes;
  /** Shortest time between two starts of a {@code /metrics} scrape (see {@link CoalescedScrape}). */
  static final long SCRAPE_INTERVAL_MS = 100;
  private KafkaReachability kafka;
  private KafkaProducer<String, byte[]> producer;
  private KafkaProducer<String, byte[]> outcomeProducer;
  private KafkaClientMetrics producerMetrics;
  private KafkaClientMetrics outcomeProducerMetrics;

  /**
   * @param backendReady whether the components behind this proxy can answer a problem's requests (the launchers
   *     give {@link BackendReadiness#ready}); readiness is also false until the results partitions are assigned
   * @param extraRoutes adds further endpoints (such as the schedule endpoints) before the catch-all 404, given the
   *     admin executor for what they do off the request path
   * @param metrics where the proxy registers its meters ({@code rdv_proxy_*}); when it is a Prometheus registry,
   *     the proxy also serves it on {@code GET /metrics}, with every other meter of the process
   * @param admission which requests are taken in under load, and when the deadline guard fires
   * @param access the credentials every request is checked against before anything else reads it
   */
  public Proxy(ProxyConfig config, ScheduleRegistry schedules, Clock clock, Predicate<String> backendReady,
      BiConsumer<Router, WorkerExecutor> extraRoutes, MeterRegistry metrics, AdmissionConfig admission,
      AccessControl access) {
    this.config = config;
    this.schedules = schedules;
    this.clock = clock;
    this.backendReady = backendReady;
    this.extraRoutes = extraRoutes;
    this.metrics = metrics;
    this.access = access;
    this.admissionConfig = admission;
    this.statusPage = new StatusPage(schedules, metrics, clock);
    this.producerSettings = KafkaSettings.producer(config.bootstrapServers());
    this.recordLimit = RecordLimit.of(producerSettings);
    this.producerName = "rdv-proxy-" + config.proxyId();
    this.outcomeProducerName = "rdv-proxy-outcomes-" + config.proxyId();
    this.outcomeProducerSettings = KafkaSettings.outcomeProducer(config.bootstrapServers());
    this.admissions = Admission.forEventLoops(config.instances(), admission, schedules.problems(), clock, metrics);
    for (String problem : schedules.problems()) {
      LongAdder n = new LongAdder();
      inFlight.put(problem, n);
      Gauge.builder("rdv.proxy.in.flight", n, LongAdder::sum).strongReference(true)
          .description("Inference requests received and not yet answered").baseUnit("requests")
          .tag("problem", problem).register(metrics);
    }
    for (int i = 0; i < config.instances(); i++) {
      instances.add(new ProxyVerticle(this, i, admissions.get(i)));
    }
    // Read off the event loops without a lock: a size for soak runs and dashboards, not an exact count.
    Gauge.builder("rdv.proxy.waiting", instances, all -> all.stream().mapToInt(ProxyVerticle::waitingCount).sum())
        .strongReference(true).description("Entries of the proxy's tables of requests waiting for their result, "
            + "every problem and every instance together").baseUnit("requests").register(metrics);
  }

  @Override
  public Future<?> start() {
    admin = AdminExecutor.create(vertx, admissionConfig.adminThreads());
    producer = KafkaProducer.createShared(vertx, producerName, producerSettings, new StringSerializer(),
        new ByteArraySerializer());
    producerMetrics = Metrics.bindKafka(metrics, producer.unwrap(), "proxy");
    outcomeProducer = KafkaProducer.createShared(vertx, outcomeProducerName, outcomeProducerSettings,
        new StringSerializer(), new ByteArraySerializer());
    outcomeProducerMetrics = Metrics.bindKafka(metrics, outcomeProducer.unwrap(), "proxy-outcomes");
    kafka = new KafkaReachability(config.bootstrapServers(), KafkaReachability.intervalFromEnvironment(
        System.getenv()), metrics);
    kafka.start(vertx);
    // Fetching the topics' metadata now spares the first request that round trip, and keeps a send from ever
    // waiting for it while the broker is up (max.block.ms bounds that wait; see KafkaSettings). The instances'
    // handles share these clients, and so their metadata.
    return admin.executeBlocking(() -> {
      for (String p : schedules.problems()) {
        prefetch(producer, Topics.of(p).input());
        prefetch(outcomeProducer, Topics.of(p).outcomes());
      }
      return null;
    }, false)
        .compose(v -> Future.all(instances.stream().map(vertx::deployVerticle).toList()))
        .onSuccess(v -> LOG.info("proxy {} listening on {}://{}:{}{} with {} instance(s), results partitions {}-{}",
            config.proxyId(), access.tls().isPresent() ? "https" : "http", config.host(), actualPort(),
            actualGrpcPort() < 0 ? "" : " and gRPC port " + actualGrpcPort(), instances.size(), config.resultsPartition(0), config.resultsPartition(instances.size() - 1)));
  }

  /** The proxy does not start without the metadata of the topics it writes: it would refuse every request. */
  private static void prefetch(KafkaProducer<String, byte[]> producer, String topic) {
    if (!KafkaTopics.prefetchMetadata(producer.unwrap(), topic)) {
      throw new IllegalStateException("no metadata for " + topic + " after " + KafkaTopics.METADATA_ATTEMPTS
          + " attempts");
    }
  }

  @Override
  public Future<?> stop() {
    kafka.stop(vertx);
    producerMetrics.close();
    outcomeProducerMetrics.close();
    return Future.join(producer.close(), outcomeProducer.close());
  }

  /** The port the instances listen on (useful when configured with 0). */
  public int actualPort() {
    return instances.get(0).actualPort();
  }

  /** The port the instances serve gRPC on (useful when configured with 0), or -1 without gRPC. */
  public int actualGrpcPort() {
    return instances.get(0).actualGrpcPort();
  }

  /** The key that marks this proxy's warm-up requests; for launchers in the same process only. */
  public WarmUpKey warmUpKey() {
    return warmUpKey;
  }

  /** Ready while every instance is ({@link ProxyVerticle#ready()}). */
  public boolean ready() {
    return instances.stream().allMatch(ProxyVerticle::ready);
  }

  /** The instances, the {@code i}-th reading results partition {@link ProxyConfig#resultsPartition(int) i}. */
  public List<ProxyVerticle> instances() {
    return List.copyOf(instances);
  }

  /** Requests of {@code problem} received and not yet answered, on every instance. */
  LongAdder inFlight(String problem) {
    return inFlight.get(problem);
  }

  /** The scrapes of {@code /metrics}, coalesced for every instance; made on first use. */
  synchronized CoalescedScrape scrapes(PrometheusMeterRegistry prometheus) {
    if (scrapes == null) {
      scrapes = new CoalescedScrape(vertx, admin, prometheus::scrape, SCRAPE_INTERVAL_MS);
    }
    return scrapes;
  }

  /** The admin executor; made when this verticle starts, before any instance. */
  WorkerExecutor admin() {
    return admin;
  }

  /** True while the last check reached Kafka. */
  boolean kafkaReachable() {
    return kafka.reachable();
  }
}
