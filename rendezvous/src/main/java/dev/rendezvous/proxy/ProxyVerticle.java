package dev.rendezvous.proxy;

import static dev.rendezvous.proxy.JsonResponses.error;
import static dev.rendezvous.proxy.JsonResponses.json;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Result;
import dev.rendezvous.common.ReturnAddress;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import dev.rendezvous.common.Topics;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.metrics.Metrics;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleRegistry;
import dev.rendezvous.ui.StatusPage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.PlatformHandler;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One instance of the HTTP front door ({@link Proxy} deploys {@link ProxyConfig#instances()} of them). For each
 * inference request it validates the body against the problem's input signature, stamps a request id, its return
 * address (this instance's results partition), the time received and the deadline, writes it to the problem's
 * input topic, and answers exactly once: with the result that arrives on its results partition, or, when none
 * has come by the deadline, with the schedule's default (the deadline guard, which keeps the SLA even with the
 * rendezvous down).
 *
 * <p>Everything of an instance runs on its event loop: the HTTP handlers of the connections Vert.x gave it, its
 * results consumer's records and its guard timers, so its table of waiting requests needs no locks. What the
 * instances share (producers, admission limits, status page) is the {@link Proxy}'s and safe to share.
 */
public final class ProxyVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyVerticle.class);

  /**
   * The port that asks Vert.x for a free port shared by every server that asks the same: port 0 would bind a
   * socket per instance, each on a port of its own.
   */
  private static final int SHARED_FREE_PORT = -1;

  /** The same for the gRPC port: Vert.x shares one free port between the servers that ask the same negative port. */
  private static final int SHARED_FREE_GRPC_PORT = -2;

  private record Waiting(InferReply reply, long timerId, String problem, String clientId, long receivedAtUs,
      long rows, ScheduleRegistry.Versioned schedule, long deadlineAtUs, long guardDueAtUs,
      InferRequestParser.Parsed request) {}

  /** The labels of the proxy's defaults: who decided on the default, for each reason a default is given. */
  private static final Map<String, String> DEFAULT_REASONS = Map.of("deadline", "rendezvous",
      "overload", "rendezvous", "proxy-deadline", "proxy", "proxy-unavailable", "proxy");

  private final Proxy proxy;
  private final int instance;
  private final int resultsPartition;
  private final ProxyConfig config;
  private final ScheduleRegistry schedules;
  private final Clock clock;
  private final Map<String, Waiting> waiting = new HashMap<>();
  private final MeterRegistry metrics;
  private final StatusPage statusPage;
  private final Admission admission;
  private final Map<String, Counter> counters = new HashMap<>();
  private final Map<String, Timer> durations = new HashMap<>();
  private final Map<String, Timer> lateness = new HashMap<>();
  private KafkaClientMetrics resultsMetrics;
  private KafkaProducer<String, byte[]> producer;
  /** Outcomes have a producer of their own: acks from every replica, and a bounded time to a 503. */
  private KafkaProducer<String, byte[]> outcomeProducer;
  private KafkaConsumer<String, byte[]> results;
  private HttpServer server;
  /** The gRPC server of this instance, or null without gRPC. */
  private HttpServer grpcServer;
  private volatile boolean resultsAssigned;
  private final AccessControl access;
  private final RequestIds requestIds;

  /**
   * @param instance this instance's index, from 0: it reads results partition
   *     {@link ProxyConfig#resultsPartition(int) config.resultsPartition(instance)}
   * @param admission admission for this instance's event loop
   */
  ProxyVerticle(Proxy proxy, int instance, Admission admission) {
    this.proxy = proxy;
    this.instance = instance;
    this.config = proxy.config;
    this.resultsPartition = config.resultsPartition(instance);
    this.access = proxy.access;
    this.requestIds = new RequestIds(config.proxyId());
    this.schedules = proxy.schedules;
    this.clock = proxy.clock;
    this.metrics = proxy.metrics;
    this.statusPage = proxy.statusPage;
    this.admission = admission;
    // Every instance registers the same meters; the registry hands each the one meter of that name and labels.
    for (String problem : schedules.problems()) {
      counter("rdv.proxy.requests", problem, "status", "200");
      duration(problem);
      lateness(problem);
      DEFAULT_REASONS.keySet().forEach(reason -> defaultCounter(problem, reason));
      counter("rdv.proxy.sla", problem, "result", "met");
      counter("rdv.proxy.sla", problem, "result", "missed");
    }
  }

  @Override
  public Future<?> start() {
    // Handles of the proxy's clients: each with a send queue of its own, all batching into one producer.
    producer = KafkaProducer.createShared(vertx, proxy.producerName, proxy.producerSettings, new StringSerializer(),
        new ByteArraySerializer());
    outcomeProducer = KafkaProducer.createShared(vertx, proxy.outcomeProducerName, proxy.outcomeProducerSettings,
        new StringSerializer(), new ByteArraySerializer());

    Map<String, String> consumerProps = KafkaSettings.consumer(config.bootstrapServers());
    consumerProps.put("enable.auto.commit", "false");
    results = KafkaConsumer.create(vertx, consumerProps, new StringDeserializer(), new ByteArrayDeserializer());
    results.pollTimeout(Duration.ofMillis(100));
    results.exceptionHandler(e -> LOG.warn("results consumer error: {}", e.getMessage()));
    results.handler(this::onResult);
    resultsMetrics = Metrics.bindKafka(metrics, results.unwrap(), "proxy");
    Set<TopicPartition> partitions = schedules.problems().stream()
        .map(p -> new TopicPartition(Topics.of(p).results(), resultsPartition))
        .collect(Collectors.toSet());
    Future<Void> assigned = results.assign(partitions)
        .compose(v -> results.seekToEnd(partitions))
        .onSuccess(v -> resultsAssigned = true);

    WorkerExecutor admin = proxy.admin();
    Router router = Router.router(vertx);
    BodyHandler body = BodyHandler.create().setBodyLimit(config.bodyLimitBytes()).setHandleFileUploads(false);
    // The scoring path is one route whose handlers run in turn: its path is matched once per request, not once per
    // step (each match of a path with a parameter runs a regular expression). The checks and admission come before
    // the body handler, so a refused request's body is never read; Vert.x orders a route's handlers by kind, and
    // a platform handler is the kind that may precede the body handler.
    router.post("/v2/models/:problem/infer")
        .handler(beforeBody(this::countRequest))
        .handler(beforeBody(access::check))
        .handler(beforeBody(ContentTypes.inferCheck()))
        .handler(beforeBody(admission::handle))
        .handler(body)
        .handler(this::infer);
    access.mount(router);
    VersionRoutes.mount(router, schedules);
    ContentTypes.mount(router);
    router.route().handler(body);
    router.post("/v2/models/:problem/outcome").handler(new OutcomeHandler(schedules, outcomeProducer, clock));
    router.get("/v2/models/:problem/ready").handler(this::modelReady);
    router.get("/v2/models/:problem").handler(this::modelMetadata);
    router.get("/v2/models").handler(ctx -> json(ctx, 200, modelList()));
    router.get("/v2/health/live").handler(ctx -> json(ctx, 200, Json.MAPPER.createObjectNode().put("live", true)));
    router.get("/v2/health/ready").handler(ctx -> {
      boolean ready = ready();
      json(ctx, ready ? 200 : 503, Json.MAPPER.createObjectNode().put("ready", ready));
    });
    router.get("/v2").handler(ctx -> json(ctx, 200, serverMetadata()));
    proxy.extraRoutes.accept(router, admin);
    if (metrics instanceof PrometheusMeterRegistry prometheus) {
      // A scrape walks every meter of the process (milliseconds): off the event loop.
      CoalescedScrape scrapes = proxy.scrapes(prometheus);
      router.get("/metrics").handler(ctx -> {
        Context here = vertx.getOrCreateContext();
        scrapes.get().onComplete(result -> here.runOnContext(v -> {
          if (result.succeeded()) {
            ctx.response().putHeader("content-type", StatusPage.PROMETHEUS_TEXT).end(result.result());
          } else {
            ctx.fail(result.cause());
          }
        }));
      });
    }
    statusPage.mount(router, admin);
    router.route().last().handler(ctx -> error(ctx, 404, "no such endpoint: " + ctx.request().method() + " "
        + ctx.request().path()));
    router.route().failureHandler(this::failure);

    // No WebSockets here: without their compression Vert.x adds no WebSocket handler to each connection's pipeline,
    // which otherwise looks at every request for an upgrade.
    server = vertx.createHttpServer(access.configure(new HttpServerOptions().setHost(config.host())
        .setPerFrameWebSocketCompressionSupported(false).setPerMessageWebSocketCompressionSupported(false)
        .setPort(config.port() == 0 ? SHARED_FREE_PORT : config.port())))
        .requestHandler(router);
    if (config.grpcPort() != ProxyConfig.GRPC_OFF) {
      grpcServer = GrpcInference.server(vertx, this, access.configure(new HttpServerOptions()
          .setHost(config.host()).setPort(config.grpcPort() == 0 ? SHARED_FREE_GRPC_PORT : config.grpcPort())));
    }
    admission.start(vertx);
    return assigned.compose(v -> server.listen())
        .compose(s -> grpcServer == null ? Future.succeededFuture(s) : grpcServer.listen().map(s))
        .onSuccess(s -> LOG.debug("proxy {} instance {} serving port {}{}, reading results partition {}",
            config.proxyId(), instance, s.actualPort(),
            grpcServer == null ? "" : " and gRPC port " + grpcServer.actualPort(), resultsPartition));
  }

  /** The port the server listens on (useful when configured with 0). */
  /** Requests of this instance waiting for their result; read from other threads as a size for gauges only. */
  int waitingCount() {
    return waiting.size();
  }

  public int actualPort() {
    return server.actualPort();
  }

  /** The port gRPC is served on (useful when configured with 0), or -1 without gRPC. */
  public int actualGrpcPort() {
    return grpcServer == null ? -1 : grpcServer.actualPort();
  }

  /** The proxy this instance belongs to: what the instances share. */
  Proxy proxy() {
    return proxy;
  }

  /** This instance's admission. */
  Admission admission() {
    return admission;
  }

  /** This instance's results partition: the partition of each results topic in its return addresses. */
  public int resultsPartition() {
    return resultsPartition;
  }

  /**
   * Ready once the results partition is assigned, while the components behind report every problem ready and
   * while the last check reached Kafka ({@link KafkaReachability}).
   */
  public boolean ready() {
    return resultsAssigned && proxy.kafkaReachable() && schedules.problems().stream().allMatch(proxy.backendReady);
  }

  /** The same for one problem: its components behind report ready. */
  public boolean ready(String problem) {
    return resultsAssigned && proxy.kafkaReachable() && proxy.backendReady.test(problem);
  }

  @Override
  public Future<?> stop() {
    admission.stop(vertx);
    resultsMetrics.close();
    return Future.join(server.close(), grpcServer == null ? Future.succeededFuture() : grpcServer.close(),
        results.close(), producer.close(), outcomeProducer.close());
  }

  private void infer(RoutingContext ctx) {
    String problem = ctx.pathParam("problem");
    ScheduleRegistry.Versioned versioned = schedules.current(problem).orElse(null);
    if (versioned == null) {
      error(ctx, 404, unknownProblem(problem));
      return;
    }
    Schedule schedule = versioned.schedule();
    long receivedAt = clock.nowMicros();
    InferRequestParser.Parsed parsed;
    try {
      Buffer body = ctx.body().buffer();
      parsed = InferRequestParser.parse(body == null ? new byte[0] : body.getBytes(),
          ctx.request().getHeader(InferRequestParser.HEADER_LENGTH), schedule.inputs(), schedule.outputs());
    } catch (BadRequestException e) {
      error(ctx, e.status(), e.getMessage());
      return;
    }
    submit(versioned, parsed, receivedAt, proxy.warmUpKey.marks(ctx.request()), new HttpInferReply(ctx));
  }

  /**
   * Takes in a parsed request of {@code versioned}'s problem, whatever its transport: stamps it, writes it to the
   * problem's input topic and answers it through {@code reply} exactly once, with its result or, by the deadline
   * guard, with the schedule's default. Runs on this instance's event loop.
   *
   * @param receivedAt when the request was received, in microseconds of the proxy's clock
   * @param warmUp whether the request carried the warm-up key
   */
  void submit(ScheduleRegistry.Versioned versioned, InferRequestParser.Parsed parsed, long receivedAt,
      boolean warmUp, InferReply reply) {
    String problem = versioned.schedule().problem();
    double budgetMs = parsed.deadlineMs() != null ? parsed.deadlineMs() : versioned.schedule().deadlineMs();
    long deadlineAt = receivedAt + (long) (budgetMs * 1000);
    String requestId = requestIds.next(warmUp);
    ReturnAddress returnAddress = new ReturnAddress(Topics.of(problem).results(), resultsPartition);
    InferenceRequest request = new InferenceRequest(requestId, parsed.clientId(), problem, returnAddress.format(),
        receivedAt, deadlineAt, parsed.inputs());
    byte[] encoded = Json.encode(request);
    String tooLarge = proxy.recordLimit.tooLarge(requestId, encoded, parsed.rows());
    if (tooLarge != null) {
      reply.refuse(413, tooLarge);
      return;
    }
    long guardMs = admission.guardDelayMs(receivedAt, deadlineAt);
    long timerId = vertx.setTimer(guardMs, id -> onDeadline(requestId));
    waiting.put(requestId, new Waiting(reply, timerId, problem, parsed.clientId(), receivedAt, parsed.rows(),
        versioned, deadlineAt, receivedAt + guardMs * 1000, parsed));
    proxy.inFlight(problem).increment();
    producer.send(KafkaProducerRecord.create(Topics.of(problem).input(), requestId, encoded))
        .onFailure(e -> {
          LOG.warn("request {} not written to Kafka: {}", requestId, e.getMessage());
          Waiting w = waiting.remove(requestId);
          if (w != null) {
            vertx.cancelTimer(w.timerId());
            answerDefault(w, "proxy-unavailable");
          }
        });
  }

  private void onResult(KafkaConsumerRecord<String, byte[]> record) {
    Result result;
    try {
      result = Json.decode(record.value(), Result.class);
    } catch (RuntimeException e) {
      LOG.warn("skipping undecodable result at {}-{} offset {}: {}", record.topic(), record.partition(),
          record.offset(), e.getMessage());
      return;
    }
    if (LOG.isDebugEnabled()) {
      LOG.debug("result {} reached the proxy {} ms after the decision, {} ms after its send", result.requestId(),
          (clock.nowMicros() - result.decidedAtUs()) / 1000.0, clock.nowMicros() / 1000 - record.timestamp());
    }
    Waiting w = waiting.remove(result.requestId());
    if (w == null) {
      return; // answered by the deadline guard already, or another proxy's (sharing the partition, or after a restart)
    }
    vertx.cancelTimer(w.timerId());
    ObjectNode params = Json.MAPPER.createObjectNode();
    params.put("answered_by", result.answeredBy());
    if (result.modelVersion() != null) {
      params.put("model_version", result.modelVersion());
    }
    if (result.tier() != null) {
      params.put("tier", result.tier());
    }
    params.put("default", result.isDefault());
    if (result.isDefault()) {
      params.put("default_reason", result.reason());
    }
    params.put("schedule_version", result.scheduleVersion());
    respond(w, result.outputs(), params, result.requestId());
  }

  private void onDeadline(String requestId) {
    Waiting w = waiting.remove(requestId);
    if (w != null) {
      admission.guardFired(w.problem(), w.guardDueAtUs(), clock.nowMicros());
      answerDefault(w, "proxy-deadline");
    }
  }

  private void answerDefault(Waiting w, String reason) {
    ObjectNode params = Json.MAPPER.createObjectNode();
    params.put("answered_by", Result.DEFAULT);
    params.put("default", true);
    params.put("default_reason", reason);
    params.put("schedule_version", w.schedule().version());
    respond(w, w.schedule().schedule().defaultOutputs(w.rows()), params, null);
  }

  private void respond(Waiting w, List<Tensor> outputs, ObjectNode params, String requestId) {
    long now = clock.nowMicros();
    double elapsedMs = (now - w.receivedAtUs()) / 1000.0;
    record(w, params, now);
    params.put("elapsed_ms", Math.round(elapsedMs * 1000) / 1000.0);
    if (requestId != null) {
      params.put("request_id", requestId);
    }
    w.reply().answer(new InferReply.Answer(w.problem(), w.schedule().version(), w.clientId(), params, outputs,
        w.request(), requestId != null));
  }

  private static PlatformHandler beforeBody(Handler<RoutingContext> handler) {
    return handler::handle;
  }

  /** Counts every inference request by problem and final HTTP status, errors included. */
  private void countRequest(RoutingContext ctx) {
    String problem = ctx.pathParam("problem");
    ctx.addEndHandler(v -> countRequest(problem, ctx.response().getStatusCode()));
    ctx.next();
  }

  /** Counts one inference request of {@code problem} with this final HTTP status (or its gRPC equivalent). */
  void countRequest(String problem, int status) {
    String label = schedules.current(problem).isPresent() ? problem : "unknown";
    counter("rdv.proxy.requests", label, "status", Integer.toString(status)).increment();
  }

  private void record(Waiting w, ObjectNode params, long now) {
    proxy.inFlight(w.problem()).decrement();
    duration(w.problem()).record(Math.max(0, now - w.receivedAtUs()), TimeUnit.MICROSECONDS);
    String answeredBy = params.get("answered_by").asText();
    String tier = params.has("tier") ? params.get("tier").asText() : "none";
    counter("rdv.proxy.answers", w.problem(), "answered_by", answeredBy, "tier", tier).increment();
    String reason = params.has("default_reason") ? params.get("default_reason").asText() : null;
    if (reason != null) {
      defaultCounter(w.problem(), reason).increment();
    }
    boolean met = now <= w.deadlineAtUs();
    counter("rdv.proxy.sla", w.problem(), "result", met ? "met" : "missed").increment();
    if (!met) {
      lateness(w.problem()).record(now - w.deadlineAtUs(), TimeUnit.MICROSECONDS);
    }
    statusPage.answered(w.problem(), answeredBy, params.has("tier") ? params.get("tier").asInt() : null, reason,
        (now - w.receivedAtUs()) / 1000.0, (w.deadlineAtUs() - w.receivedAtUs()) / 1000.0, now);
  }

  private Counter defaultCounter(String problem, String reason) {
    return counter("rdv.proxy.defaults", problem, "reason", reason, "decided_by",
        DEFAULT_REASONS.getOrDefault(reason, "rendezvous"));
  }

  private static final Map<String, String> DESCRIPTIONS = Map.of(
      "rdv.proxy.requests", "Inference requests, by final HTTP status",
      "rdv.proxy.answers", "Answers returned, by who answered and in which tier",
      "rdv.proxy.defaults", "Defaults returned, by reason and by who decided on them",
      "rdv.proxy.sla", "Answers sent by the request's deadline (met) or after it (missed)");

  /** A counter of the proxy's, created once per label set; label values are bounded (see docs/metrics.md). */
  private Counter counter(String name, String problem, String... labels) {
    String key = name + '|' + problem + '|' + String.join("|", labels);
    return counters.computeIfAbsent(key, k -> Counter.builder(name).description(DESCRIPTIONS.get(name))
        .tags(Tags.of("problem", problem).and(labels)).register(metrics));
  }

  private Timer duration(String problem) {
    return durations.computeIfAbsent(problem, p -> Metrics.latency(metrics, "rdv.proxy.request.duration",
        "Time from receipt of an inference request to its answer being written", Tags.of("problem", p)));
  }

  /**
   * How late the answers written after their deadline were: the promise is an answer by the deadline, and an
   * operator (or the benchmark) asks how far past it the misses went, which the SLA counter does not say.
   */
  private Timer lateness(String problem) {
    return lateness.computeIfAbsent(problem, p -> Metrics.latency(metrics, "rdv.proxy.answer.lateness",
        "For each answer written after its request's deadline, how long after it", Tags.of("problem", p)));
  }

  private void modelMetadata(RoutingContext ctx) {
    String problem = ctx.pathParam("problem");
    ScheduleRegistry.Versioned v = schedules.current(problem).orElse(null);
    if (v == null) {
      error(ctx, 404, unknownProblem(problem));
      return;
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("name", problem);
    body.putArray("versions").add(Long.toString(v.version()));
    body.put("platform", "rendezvous");
    body.set("inputs", specs(v.schedule().inputs()));
    body.set("outputs", specs(v.schedule().outputs()));
    json(ctx, 200, body);
  }

  private void modelReady(RoutingContext ctx) {
    String problem = ctx.pathParam("problem");
    if (schedules.current(problem).isEmpty()) {
      error(ctx, 404, unknownProblem(problem));
      return;
    }
    boolean ready = ready(problem);
    json(ctx, ready ? 200 : 503, Json.MAPPER.createObjectNode().put("name", problem).put("ready", ready));
  }

  private ObjectNode modelList() {
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode models = body.putArray("models");
    for (String p : schedules.problems()) {
      ScheduleRegistry.Versioned v = schedules.current(p).orElseThrow();
      models.addObject().put("name", p).put("version", Long.toString(v.version()))
          .put("ready", ready(p));
    }
    return body;
  }

  static ObjectNode serverMetadata() {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("name", "rendezvous");
    body.put("version", ProxyVerticle.class.getPackage().getImplementationVersion() != null
        ? ProxyVerticle.class.getPackage().getImplementationVersion() : "0.1.0-SNAPSHOT");
    body.putArray("extensions").add("binary_tensor_data");
    return body;
  }

  private static ArrayNode specs(List<TensorSpec> specs) {
    ArrayNode out = Json.MAPPER.createArrayNode();
    for (TensorSpec s : specs) {
      ObjectNode o = out.addObject().put("name", s.name()).put("datatype", s.datatype());
      ArrayNode shape = o.putArray("shape");
      for (long d : s.shape()) {
        shape.add(d);
      }
    }
    return out;
  }

  String unknownProblem(String problem) {
    return "unknown problem '" + problem + "'; served: " + String.join(", ", schedules.problems());
  }

  private void failure(RoutingContext ctx) {
    int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
    if (status == 413) {
      error(ctx, 413, "request body exceeds the limit of " + config.bodyLimitBytes() + " bytes");
    } else if (status == 500) {
      LOG.error("unexpected error on {} {}", ctx.request().method(), ctx.request().path(), ctx.failure());
      error(ctx, 500, "internal error: " + (ctx.failure() == null ? "unknown" : ctx.failure().getMessage()));
    } else {
      error(ctx, status, "request failed with HTTP " + status);
    }
  }

}
