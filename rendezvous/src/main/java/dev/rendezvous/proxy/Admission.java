package dev.rendezvous.proxy;

import com.netflix.concurrency.limits.Limit;
import com.netflix.concurrency.limits.Limiter;
import com.netflix.concurrency.limits.limit.Gradient2Limit;
import com.netflix.concurrency.limits.limit.VegasLimit;
import com.netflix.concurrency.limits.limiter.SimpleLimiter;
import dev.rendezvous.common.Clock;
import dev.rendezvous.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The proxy's front door under load: it takes an inference request in only while the problem's adaptive
 * concurrency limit has room and the event loop has no standing delay, and refuses the rest at once with
 * {@code 503 Service Unavailable}, a {@code Retry-After} header and an {@code {"error": ...}} body. It also
 * says when the deadline guard fires (a margin before the deadline) and measures how late it fired.
 *
 * <p>Two signals, because they see different overloads:
 * <ul>
 *   <li>the concurrency limit (Netflix concurrency-limits' limiter, by default with {@link WindowedAimdLimit})
 *       learns from each admitted request's answer: one that came through the pipeline in time is a success,
 *       one the deadline guard had to give a drop, and drops shrink the limit on requests in flight. It sees
 *       the pipeline behind the proxy (Kafka, runners, rendezvous) falling behind;
 *   <li>the event-loop delay ({@link EventLoopLag}) sees the proxy's own thread falling behind, which delays
 *       every answer and every guard, whatever the limit says.
 * </ul>
 * A refused request costs one small response, so a flood is answered fast instead of late.
 *
 * <p>A proxy with several event loops ({@link ProxyConfig#instances()}) has one {@code Admission} per loop, made
 * together by {@link #forEventLoops}. They share one limit per problem, the refusal counters and the guard's
 * timers: the limit measures the pipeline behind the proxy, which every loop feeds, so it is learnt from every
 * answer and caps the problem's requests in flight whatever the number of loops (a limit per loop would multiply
 * the ceiling by the number of cores and learn from a fraction of the answers). The event-loop delay is each
 * loop's own: a late loop refuses the requests of its own connections while the others keep admitting.
 *
 * <p>Thread-safe where shared (the limiters are Netflix's, made for concurrent callers; counters and timers are
 * Micrometer's); each instance's delay and probe belong to its event loop alone.
 */
public final class Admission {

  /** Why a request was refused, as the {@code reason} label of {@code rdv_proxy_refused_total}. */
  public enum Reason {
    CONCURRENCY_LIMIT("concurrency-limit"),
    EVENT_LOOP_LAG("event-loop-lag");

    public final String label;

    Reason(String label) {
      this.label = label;
    }
  }

  /** Where an admitted request's permit is kept in its routing context. */
  static final String PERMIT = "rdv.admission.permit";

  /**
   * One admitted request's place under the limit, given back exactly once when its response ends: as a
   * success (the pipeline answered: a model, or the schedule's default decided by the rendezvous), a drop (the
   * proxy answered itself: its deadline guard fired, or Kafka refused the request) or ignored (an error, or a
   * connection closed first). A default the schedule chose is a success: with every model stopped the pipeline
   * still answers in time, and refusing its requests would only turn defaults into errors.
   */
  public static final class Permit {
    private final Limiter.Listener listener;
    private Boolean inTime;
    private boolean released;

    Permit(Limiter.Listener listener) {
      this.listener = listener;
    }

    /** Notes whether the pipeline answered in time; the permit is given back when the response has ended. */
    public void answered(boolean answeredInTime) {
      inTime = answeredInTime;
    }

    /** Gives the permit back, once; later calls do nothing. */
    public void release() {
      if (released) {
        return;
      }
      released = true;
      if (listener == null) {
        return;
      }
      if (inTime == null) {
        listener.onIgnore();
      } else if (inTime) {
        listener.onSuccess();
      } else {
        listener.onDropped();
      }
    }
  }

  /** What the event loops of one proxy share; filled when made, only read afterwards. */
  private static final class Shared {
    final AdmissionConfig config;
    final Clock clock;
    final MeterRegistry metrics;
    final Set<String> problems;
    final Map<String, SimpleLimiter<Void>> limiters = new HashMap<>();
    final Map<String, Counter> refused = new HashMap<>();
    final Map<String, Timer> guardLateness = new HashMap<>();
    final AtomicLong lastNanos = new AtomicLong();

    Shared(AdmissionConfig config, Collection<String> problems, Clock clock, MeterRegistry metrics) {
      this.config = config;
      this.clock = clock;
      this.metrics = metrics;
      this.problems = Set.copyOf(problems);
      for (String problem : problems) {
        if (!config.limit().equals("none")) {
          SimpleLimiter<Void> limiter = SimpleLimiter.newBuilder().named("rdv-proxy-" + problem)
              .limit(limit(config)).nanoClock(this::limiterNanos).build();
          limiters.put(problem, limiter);
          Gauge.builder("rdv.proxy.admission.limit", limiter, SimpleLimiter::getLimit).strongReference(true)
              .description("Admitted inference requests allowed in flight (the adaptive concurrency limit)")
              .baseUnit("requests").tag("problem", problem).register(metrics);
        }
        for (Reason r : Reason.values()) {
          refused.put(problem + '|' + r.label, Counter.builder("rdv.proxy.refused")
              .description("Inference requests refused at once (HTTP 503) because they could not be answered in time")
              .tags("problem", problem, "reason", r.label).register(metrics));
        }
        guardLateness.put(problem, Metrics.latency(metrics, "rdv.proxy.guard.lateness",
            "How long after its due time (the deadline less the guard margin) the deadline guard fired",
            Tags.of("problem", problem)));
      }
    }

    /**
     * The limiters' clock: the project's clock, made strictly increasing. A round trip of zero makes Gradient2's
     * gradient 0/0 and its limit 0 for good, and a wall clock may step back; neither may reach the limiter.
     */
    long limiterNanos() {
      long now = clock.nowMicros() * 1000;
      return lastNanos.updateAndGet(last -> Math.max(last + 1, now));
    }
  }

  private final Shared shared;
  private final AdmissionConfig config;
  private final Clock clock;
  private final EventLoopLag lag;
  private long probeTimer = -1;
  private final String retryAfter;
  private byte[] lagRefusal;
  private final Map<String, byte[][]> limitRefusals = new HashMap<>();

  /**
   * Admission for a proxy with one event loop.
   *
   * @param problems the problems served; each has its own limit, since each has its own pipeline
   * @param metrics where {@code rdv_proxy_refused_total}, {@code rdv_proxy_admission_limit},
   *     {@code rdv_proxy_event_loop_lag_seconds} and {@code rdv_proxy_guard_lateness_seconds} are registered
   */
  public Admission(AdmissionConfig config, Collection<String> problems, Clock clock, MeterRegistry metrics) {
    this(new Shared(config, problems, clock, metrics), 0);
  }

  private Admission(Shared shared, int loop) {
    this.shared = shared;
    this.config = shared.config;
    this.clock = shared.clock;
    this.retryAfter = Integer.toString(config.retryAfterSeconds());
    this.lag = new EventLoopLag(Math.round(config.lagTargetMs() * 1000), Math.round(config.lagIntervalMs() * 1000));
    Gauge.builder("rdv.proxy.event.loop.lag", lag, l -> l.lastLagUs() / 1e6).strongReference(true)
        .description("How late the probe timer of one of the proxy's event loops last fired").baseUnit("seconds")
        .tag("loop", Integer.toString(loop)).register(shared.metrics);
    Gauge.builder("rdv.proxy.guard.margin", this, a -> a.guardMarginMs(Double.MAX_VALUE) / 1000)
        .strongReference(true)
        .description("How long before the deadline the deadline guard of one of the proxy's event loops fires now "
            + "(the configured margin, plus the loop's recent delay when the guard follows it; a request's share "
            + "cap aside)")
        .baseUnit("seconds").tag("loop", Integer.toString(loop)).register(shared.metrics);
  }

  /**
   * Admission for each of the {@code loops} event loops of one proxy, the {@code i}-th for loop {@code i}: one
   * limit per problem shared by all, each loop's own delay (its gauge labelled {@code loop="i"}).
   */
  public static List<Admission> forEventLoops(int loops, AdmissionConfig config, Collection<String> problems,
      Clock clock, MeterRegistry metrics) {
    Shared shared = new Shared(config, problems, clock, metrics);
    List<Admission> out = new ArrayList<>();
    for (int i = 0; i < loops; i++) {
      out.add(new Admission(shared, i));
    }
    return out;
  }

  private static Limit limit(AdmissionConfig c) {
    return switch (c.limit()) {
      case "gradient2" -> Gradient2Limit.newBuilder().initialLimit(c.initialLimit()).minLimit(c.minLimit())
          .maxConcurrency(c.maxLimit()).build();
      case "aimd" -> new WindowedAimdLimit(c.initialLimit(), c.minLimit(), c.maxLimit());
      case "vegas" -> VegasLimit.newBuilder().initialLimit(c.initialLimit()).maxConcurrency(c.maxLimit()).build();
      default -> throw new IllegalArgumentException("no limit algorithm '" + c.limit() + "'");
    };
  }

  /** Starts sampling the event loop's delay on the calling verticle's event loop. */
  public void start(Vertx vertx) {
    armProbe(vertx);
  }

  /** Stops sampling. */
  public void stop(Vertx vertx) {
    if (probeTimer >= 0) {
      vertx.cancelTimer(probeTimer);
    }
  }

  private void armProbe(Vertx vertx) {
    long dueAt = clock.nowMicros() + config.lagProbeMs() * 1000;
    probeTimer = vertx.setTimer(config.lagProbeMs(), id -> {
      lag.probed(dueAt, clock.nowMicros());
      armProbe(vertx);
    });
  }

  /** The event loop's delay, fed by the probe (or by hand in tests). */
  public EventLoopLag lag() {
    return lag;
  }

  /**
   * The decision on one request: a permit, to be given back when its answer is written, or the reason it is
   * refused.
   */
  public record Decision(Permit permit, Reason refusal) {
    public boolean admitted() {
      return permit != null;
    }
  }

  /**
   * Decides on one request of {@code problem}; a refusal is counted. A late event loop refuses only while
   * the problem is busy itself, with at least half its limit in flight (the rule by which the limit algorithms
   * tell an application-limited caller from a saturated one): with few requests in flight, the delay is
   * somebody else's (another process on the cores, a collector pause), and refusing would turn a slow
   * service into an unavailable one without relieving it.
   */
  public Decision admit(String problem) {
    SimpleLimiter<Void> limiter = shared.limiters.get(problem);
    if (lag.overloaded() && (limiter == null || limiter.getInflight() * 2 >= limiter.getLimit())) {
      return refuse(problem, Reason.EVENT_LOOP_LAG);
    }
    if (limiter == null) {
      return new Decision(new Permit(null), null);
    }
    Optional<Limiter.Listener> listener = limiter.acquire(null);
    if (listener.isEmpty()) {
      return refuse(problem, Reason.CONCURRENCY_LIMIT);
    }
    return new Decision(new Permit(listener.get()), null);
  }

  private Decision refuse(String problem, Reason reason) {
    Counter c = shared.refused.get(problem + '|' + reason.label);
    if (c != null) {
      c.increment();
    }
    return new Decision(null, reason);
  }

  /** The current limit of {@code problem}, or -1 without a limit. */
  public int limit(String problem) {
    SimpleLimiter<Void> l = shared.limiters.get(problem);
    return l == null ? -1 : l.getLimit();
  }

  /** Admitted requests of {@code problem} not yet answered, on every event loop, or -1 without a limit. */
  public int inFlight(String problem) {
    SimpleLimiter<Void> l = shared.limiters.get(problem);
    return l == null ? -1 : l.getInflight();
  }

  /**
   * The route handler in front of inference: admits the request (its permit given back when the response
   * ends, however it ends) or refuses it. Requests for problems not served pass, for the 404 further on.
   */
  public void handle(RoutingContext ctx) {
    String problem = ctx.pathParam("problem");
    if (!shared.problems.contains(problem)) {
      ctx.next();
      return;
    }
    Decision d = admit(problem);
    if (!d.admitted()) {
      ctx.response().putHeader("retry-after", retryAfter);
      JsonResponses.encoded(ctx, 503, refusalBody(problem, d.refusal()));
      return;
    }
    Permit p = d.permit();
    ctx.put(PERMIT, p);
    ctx.addEndHandler(v -> p.release());
    ctx.next();
  }

  /**
   * The body of a refusal, encoded once per reason and limit: under a flood most answers are refusals, and their
   * cost decides how long every request waits for the event loop. Event-loop confined, like the loop's delay.
   */
  private byte[] refusalBody(String problem, Reason reason) {
    if (reason == Reason.EVENT_LOOP_LAG) {
      if (lagRefusal == null) {
        lagRefusal = JsonResponses.errorBody(refusal("the proxy is falling behind (its event loop is late by more "
            + "than " + config.lagTargetMs() + " ms)"));
      }
      return lagRefusal;
    }
    int limit = limit(problem);
    byte[][] byLimit = limitRefusals.computeIfAbsent(problem, p -> new byte[config.maxLimit() + 1][]);
    // The shipped limiters stay within 0..max; a limit outside it is encoded each time rather than thrown on.
    boolean cached = limit >= 0 && limit < byLimit.length;
    if (cached && byLimit[limit] != null) {
      return byLimit[limit];
    }
    byte[] body = JsonResponses.errorBody(refusal("too many requests in flight for '" + problem + "' (limit "
        + limit + ")"));
    if (cached) {
      byLimit[limit] = body;
    }
    return body;
  }

  private String refusal(String why) {
    return "overloaded: " + why + "; the request was not taken in, retry after " + config.retryAfterSeconds() + " s";
  }

  /** Notes whether the pipeline answered an admitted request in time, for its permit's sample. */
  public static void answered(RoutingContext ctx, boolean answeredInTime) {
    Permit p = ctx.get(PERMIT);
    if (p != null) {
      p.answered(answeredInTime);
    }
  }

  /** The most of a request's budget by which the guard fires earlier on a late event loop. */
  static final double MAX_LAG_SHARE = 0.25;

  /**
   * The guard's delay in whole milliseconds (the timers' unit), rounded down so that it fires no later than
   * the deadline less the margin; at least 1. When the guard follows the loop's delay, the margin grows by the
   * loop's smoothed delay in whole milliseconds, up to {@link #MAX_LAG_SHARE} of the budget.
   */
  public long guardDelayMs(long receivedAtUs, long deadlineAtUs) {
    return guardDelayMs(receivedAtUs, deadlineAtUs, guardMarginMs((deadlineAtUs - receivedAtUs) / 1000.0));
  }

  /** The guard's margin now for a request with a budget of {@code budgetMs}. */
  double guardMarginMs(double budgetMs) {
    if (!config.guardFollowsLag()) {
      return config.guardMarginMs();
    }
    // In whole milliseconds, the timers' unit: a loop a few microseconds late moves no guard.
    return config.guardMarginMs() + Math.min(Math.round(lag.smoothedLagUs() / 1000.0), budgetMs * MAX_LAG_SHARE);
  }

  static long guardDelayMs(long receivedAtUs, long deadlineAtUs, double marginMs) {
    double ms = (deadlineAtUs - receivedAtUs) / 1000.0 - marginMs;
    return Math.max(1, (long) Math.floor(ms));
  }

  /** Records how late a guard due at {@code dueAtUs} (its receipt plus its delay) fired at {@code firedAtUs}. */
  public void guardFired(String problem, long dueAtUs, long firedAtUs) {
    Timer t = shared.guardLateness.get(problem);
    if (t != null) {
      t.record(Math.max(0, firedAtUs - dueAtUs), TimeUnit.MICROSECONDS);
    }
  }
}
