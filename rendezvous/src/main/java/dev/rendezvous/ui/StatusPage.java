package dev.rendezvous.ui;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.Json;
import dev.rendezvous.metrics.ScoreHistogram;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleRegistry;
import dev.rendezvous.schedule.Tier;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBucket;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.vertx.core.WorkerExecutor;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The proxy's live page: per problem, the schedule in force, the last {@value #RECENT} answers (who answered,
 * in which tier, how long it took against the request's deadline) and each model's score distribution next
 * to the canary's, read from the {@code rdv_model_score} histograms of the process's registry.
 *
 * <p>Thread-safe: every event loop of the proxy notes its answers here, and any of them serves the page.
 */
public final class StatusPage {

  /** The Prometheus text exposition format's content type. */
  public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  /** How many answers per problem the page shows. */
  public static final int RECENT = 300;

  private record Answer(long atUs, String answeredBy, Integer tier, String defaultReason, double elapsedMs,
      double budgetMs) {}

  private final ScheduleRegistry schedules;
  private final MeterRegistry metrics;
  private final Clock clock;
  private final Map<String, ArrayDeque<Answer>> recent = new HashMap<>();

  public StatusPage(ScheduleRegistry schedules, MeterRegistry metrics, Clock clock) {
    this.schedules = schedules;
    this.metrics = metrics;
    this.clock = clock;
  }

  /**
   * Serves the page under {@code /ui/} and its data at {@code /ui/api/status}.
   *
   * @param admin where the score histograms are read: an executor off the request path, so that many open
   *     pages cannot hold up a request
   */
  public void mount(Router router, WorkerExecutor admin) {
    router.get("/ui").handler(ctx -> {
      if (ctx.request().path().equals("/ui")) {
        ctx.redirect("/ui/"); // relative links in the page need the slash
      } else {
        ctx.next(); // the router matches "/ui" for "/ui/" too
      }
    });
    // The score histograms are read off the event loop; the recent answers, a short copy, on it.
    router.get("/ui/api/status").handler(ctx -> admin.executeBlocking(this::scoreDistributions, false)
        .map(this::status)
        .onSuccess(body -> ctx.response().putHeader("content-type", "application/json")
            .putHeader("cache-control", "no-store").end(body.toString()))
        .onFailure(ctx::fail));
    router.route("/ui/*").handler(StaticHandler.create("ui").setCachingEnabled(false));
  }

  /** Notes one answer given by the proxy. */
  public synchronized void answered(String problem, String answeredBy, Integer tier, String defaultReason,
      double elapsedMs, double budgetMs, long atUs) {
    ArrayDeque<Answer> answers = recent.computeIfAbsent(problem, p -> new ArrayDeque<>(RECENT));
    if (answers.size() == RECENT) {
      answers.removeFirst();
    }
    answers.addLast(new Answer(atUs, answeredBy, tier, defaultReason, elapsedMs, budgetMs));
  }

  /** Everything the page shows, as one JSON document. */
  public ObjectNode status() {
    return status(scoreDistributions());
  }

  private ObjectNode status(Map<String, List<ObjectNode>> distributions) {
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("generated_at_ms", clock.nowMicros() / 1000);
    ArrayNode problems = root.putArray("problems");
    for (String problem : schedules.problems()) {
      ObjectNode p = problems.addObject();
      p.put("problem", problem);
      ScheduleRegistry.Versioned v = schedules.current(problem).orElseThrow();
      p.set("schedule", schedule(v));
      ArrayNode answers = p.putArray("recent");
      Map<String, Integer> byWho = new TreeMap<>();
      List<Answer> list = recentAnswers(problem);
      double[] elapsed = new double[list.size()];
      int i = 0;
      for (Answer a : list) {
        ObjectNode o = answers.addObject().put("at_ms", a.atUs() / 1000).put("answered_by", a.answeredBy())
            .put("elapsed_ms", round(a.elapsedMs())).put("deadline_ms", round(a.budgetMs()));
        if (a.tier() != null) {
          o.put("tier", a.tier());
        }
        if (a.defaultReason() != null) {
          o.put("default_reason", a.defaultReason());
        }
        byWho.merge(a.answeredBy(), 1, Integer::sum);
        elapsed[i++] = a.elapsedMs();
      }
      ObjectNode who = p.putObject("answered_by");
      byWho.forEach(who::put);
      Arrays.sort(elapsed);
      ObjectNode latency = p.putObject("latency_ms");
      if (elapsed.length > 0) {
        latency.put("p50", round(elapsed[(int) Math.floor(0.5 * (elapsed.length - 1))]));
        latency.put("p99", round(elapsed[(int) Math.floor(0.99 * (elapsed.length - 1))]));
        latency.put("max", round(elapsed[elapsed.length - 1]));
      }
      ArrayNode models = p.putArray("models");
      distributions.getOrDefault(problem, List.of()).forEach(models::add);
    }
    return root;
  }

  private synchronized List<Answer> recentAnswers(String problem) {
    return List.copyOf(recent.getOrDefault(problem, new ArrayDeque<>()));
  }

  private static ObjectNode schedule(ScheduleRegistry.Versioned v) {
    Schedule s = v.schedule();
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("version", v.version()).put("deadline_ms", s.deadlineMs()).put("margin_ms", s.marginMs())
        .put("source", s.source());
    ArrayNode tiers = o.putArray("tiers");
    for (Tier t : s.tiers()) {
      ObjectNode to = tiers.addObject().put("until_ms", t.untilMs());
      t.accept().forEach(to.putArray("accept")::add);
    }
    return o;
  }

  /**
   * Each model's histogram, per problem, serving models first and canaries last; bucket counts are per
   * bucket (not cumulative), the last bucket being everything above 1.
   */
  private Map<String, List<ObjectNode>> scoreDistributions() {
    Map<String, List<ObjectNode>> out = new TreeMap<>();
    if (!(metrics instanceof PrometheusMeterRegistry prometheus)) {
      return out;
    }
    for (MetricSnapshot snapshot : prometheus.getPrometheusRegistry()
        .scrape(name -> name.startsWith(ScoreHistogram.NAME))) {
      if (!(snapshot instanceof HistogramSnapshot h) || !h.getMetadata().getName().equals(ScoreHistogram.NAME)) {
        continue;
      }
      for (HistogramSnapshot.HistogramDataPointSnapshot dp : h.getDataPoints()) {
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("model", dp.getLabels().get("model")).put("version", dp.getLabels().get("version"))
            .put("role", dp.getLabels().get("role")).put("count", dp.getCount());
        ArrayNode buckets = m.putArray("buckets");
        for (ClassicHistogramBucket b : dp.getClassicBuckets()) {
          ObjectNode bo = buckets.addObject().put("count", b.getCount());
          if (Double.isInfinite(b.getUpperBound())) {
            bo.put("le", "+Inf"); // JSON has no infinity
          } else {
            bo.put("le", b.getUpperBound());
          }
        }
        out.computeIfAbsent(dp.getLabels().get("problem"), k -> new java.util.ArrayList<>()).add(m);
      }
    }
    out.values().forEach(list -> list.sort(Comparator.<ObjectNode, Boolean>comparing(
        m -> m.get("role").asText().equals("canary")).thenComparing(m -> m.get("model").asText())));
    return out;
  }

  private static double round(double ms) {
    return Math.round(ms * 1000) / 1000.0;
  }
}
