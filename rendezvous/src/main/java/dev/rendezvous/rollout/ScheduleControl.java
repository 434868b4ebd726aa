package dev.rendezvous.rollout;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Role;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleException;
import dev.rendezvous.schedule.ScheduleLoader;
import dev.rendezvous.schedule.ScheduleRegistry;
import dev.rendezvous.schedule.Tier;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process's handle on its problems' schedules: applies and rolls back through the schedule log, waits
 * until the version is in force here, remembers rejected edits, and describes the whole state for the status
 * endpoint. The HTTP routes, the file watcher and the launcher all go through it.
 *
 * <p>Which models are canaries (and may never be accepted by a tier) is known from two places: the runner
 * configurations this process was started with ({@code role: canary}) and the role of every score seen on
 * the problem's scores topic. Either is enough to refuse a schedule naming the model.
 */
public final class ScheduleControl implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ScheduleControl.class);

  /** Default for how recently a model must have scored for a schedule naming it to pass without a warning. */
  public static final long DEFAULT_RECENT_MS = 60_000;

  /** A schedule edit that was refused, and why. */
  public record Rejection(long atUs, String source, String message) {}

  /**
   * What an apply did.
   *
   * @param applied the version now in force (for a dry run: null)
   * @param changed false when the text equalled the version in force, so nothing was written
   * @param warnings models named in a tier that no runner scored recently, as {@code field: message}
   */
  public record Outcome(AppliedSchedule applied, boolean changed, List<String> warnings, Schedule schedule) {}

  private final String bootstrapServers;
  private final Set<String> problems;
  private final ScheduleRegistry registry;
  private final List<RunnerConfig> runners;
  private final Clock clock;
  private final long recentMs;
  private final ScheduleFollower follower;
  private final ScoreObserver observer;
  private final Map<String, Rejection> lastRejected = new ConcurrentHashMap<>();

  /**
   * @param problems the problems served here; edits for others are refused
   * @param runners the runner configurations known to this process (their roles mark canaries)
   * @param recentMs how recently a named model must have scored to pass without a warning
   */
  public ScheduleControl(String bootstrapServers, Set<String> problems, ScheduleRegistry registry,
      List<RunnerConfig> runners, Clock clock, long recentMs) {
    this(bootstrapServers, problems, registry, runners, clock, recentMs,
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  /** The same, with the follower's and the observer's consumer loops registering their meters with {@code metrics}. */
  public ScheduleControl(String bootstrapServers, Set<String> problems, ScheduleRegistry registry,
      List<RunnerConfig> runners, Clock clock, long recentMs, io.micrometer.core.instrument.MeterRegistry metrics) {
    this(bootstrapServers, problems, registry, runners, clock, recentMs, metrics,
        new ScoreObserver(bootstrapServers, problems, clock, metrics));
  }

  /**
   * The same, with a score observer made elsewhere (one fed by a reader that shares its scores consumer); it is
   * started and closed with this control.
   */
  public ScheduleControl(String bootstrapServers, Set<String> problems, ScheduleRegistry registry,
      List<RunnerConfig> runners, Clock clock, long recentMs, io.micrometer.core.instrument.MeterRegistry metrics,
      ScoreObserver observer) {
    this.bootstrapServers = bootstrapServers;
    this.problems = Set.copyOf(problems);
    this.registry = registry;
    this.runners = List.copyOf(runners);
    this.clock = clock;
    this.recentMs = recentMs;
    this.follower = new ScheduleFollower(bootstrapServers, problems, registry, metrics);
    this.observer = observer;
  }

  /** Starts following the schedule logs and watching the scores; returns once the logs have been read. */
  public ScheduleControl start() throws Exception {
    follower.start();
    observer.start();
    follower.awaitCaughtUp(Duration.ofSeconds(60));
    return this;
  }

  public ScheduleFollower follower() {
    return follower;
  }

  public ScoreObserver observer() {
    return observer;
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  public Set<String> problems() {
    return problems;
  }

  /** True when the model is known to run as a canary for the problem. */
  public boolean isCanary(String problem, String modelId) {
    for (RunnerConfig rc : runners) {
      if (rc.problem().equals(problem) && rc.modelId().equals(modelId) && rc.role() == Role.CANARY) {
        return true;
      }
    }
    return observer.models(problem).stream().anyMatch(s -> s.modelId().equals(modelId) && s.role() == Role.CANARY);
  }

  /**
   * Validates the schedule text and, unless {@code dryRun}, writes it as the problem's next version and
   * waits until it is in force here.
   *
   * @throws ScheduleException when it is invalid or for a problem not served here; nothing changes then
   */
  public Outcome apply(String yaml, String source, boolean dryRun) throws InterruptedException {
    return apply(yaml, source, dryRun, null);
  }

  /**
   * As {@link #apply(String, String, boolean)}, for an edit addressed to one problem (the HTTP endpoint of
   * {@code expectedProblem}): a schedule of another problem is refused before anything is written.
   *
   * @param expectedProblem the problem the edit was sent to, or null when any served problem will do
   */
  public Outcome apply(String yaml, String source, boolean dryRun, String expectedProblem)
      throws InterruptedException {
    Schedule schedule = validate(yaml, source);
    if (expectedProblem != null && !schedule.problem().equals(expectedProblem)) {
      throw new ScheduleException(source, 0, "problem", "is '" + schedule.problem() + "' but was sent to the "
          + "endpoint of '" + expectedProblem + "'; nothing was applied");
    }
    List<String> warnings = unseenModels(schedule);
    if (dryRun) {
      return new Outcome(null, false, warnings, schedule);
    }
    ScheduleLog.Published p = ScheduleLog.publish(bootstrapServers, yaml, source,
        id -> isCanary(schedule.problem(), id), null);
    return inForce(p, warnings);
  }

  /**
   * Seeds the problem's log from a schedule file at start: the text becomes version 1 when the log is empty,
   * and otherwise nothing is written and the version in force stays, whatever the file says. A file that
   * differs from the version in force is logged with how to put it in force, since the log wins.
   *
   * @throws ScheduleException when the text is invalid or for a problem not served here
   */
  public Outcome seed(String yaml, String source) throws InterruptedException {
    Schedule schedule = validate(yaml, source);
    ScheduleLog.Published p = ScheduleLog.seed(bootstrapServers, yaml, source,
        id -> isCanary(schedule.problem(), id));
    AppliedSchedule a = p.applied();
    if (p.changed()) {
      LOG.info("schedule log of {} was empty: seeded from {} as version {}", a.problem(), source, a.version());
    } else if (!a.yaml().equals(yaml)) {
      LOG.warn("schedule file {} differs from version {} of {} in force (applied from {}); the log wins. Apply the "
          + "file with `rendezvous schedule apply {} --bootstrap-servers {}` (or POST it to "
          + "/v2/models/{}/schedule), or edit it while this process runs, to put it in force", source, a.version(),
          a.problem(), a.source(), source, bootstrapServers, a.problem());
    }
    return inForce(p, p.changed() ? unseenModels(schedule) : List.of());
  }

  /**
   * Seeds the logs from every schedule file of {@code dir} ({@link #seed}), in name order.
   *
   * @return each file's text as read, for a {@link ScheduleWatcher} to count only later edits as changes
   */
  public Map<java.nio.file.Path, String> seedFrom(java.nio.file.Path dir) throws java.io.IOException,
      InterruptedException {
    Map<java.nio.file.Path, String> seen = new java.util.LinkedHashMap<>();
    for (java.nio.file.Path f : ScheduleWatcher.files(dir)) {
      String text = java.nio.file.Files.readString(f, java.nio.charset.StandardCharsets.UTF_8);
      seed(text, f.toString());
      seen.put(f, text);
    }
    return seen;
  }

  /** Re-applies the text of an earlier version as a new version and waits until it is in force here. */
  public Outcome rollback(String problem, long version) throws InterruptedException {
    if (!problems.contains(problem)) {
      throw new IllegalArgumentException("problem '" + problem + "' is not served here");
    }
    ScheduleLog.Published p = ScheduleLog.rollback(bootstrapServers, problem, version, id -> isCanary(problem, id));
    return inForce(p, unseenModels(p.schedule()));
  }

  /**
   * Records an edit that was refused so that the status endpoint shows it; {@code problem} may be null. Only
   * served problems are remembered (one entry each): the name comes from a request path or a file, and a
   * flood of made-up names must not grow this process's memory.
   */
  public void reject(String problem, String source, String message) {
    Rejection r = new Rejection(clock.nowMicros(), source, message);
    if (problem != null && problems.contains(problem)) {
      lastRejected.put(problem, r);
    }
    LOG.warn("schedule edit rejected, the schedule in force keeps serving: {}", message);
  }

  /** How many rejections are remembered: at most one per served problem, whatever was sent. */
  public int rememberedRejections() {
    return lastRejected.size();
  }

  /** The last refused edit for the problem, if any since this process started. */
  public Rejection lastRejected(String problem) {
    return lastRejected.get(problem);
  }

  private Schedule validate(String yaml, String source) {
    Schedule unchecked = ScheduleLoader.parse(yaml, source);
    if (!problems.contains(unchecked.problem())) {
      throw new ScheduleException(source, 0, "problem", "'" + unchecked.problem() + "' is not served here"
          + " (served: " + String.join(", ", new java.util.TreeSet<>(problems)) + "); a new problem needs its"
          + " topics and a rendezvous, so start the system with its schedule in place");
    }
    return ScheduleLoader.parse(yaml, source, id -> isCanary(unchecked.problem(), id));
  }

  private Outcome inForce(ScheduleLog.Published p, List<String> warnings) throws InterruptedException {
    AppliedSchedule a = p.applied();
    if (!follower.awaitVersion(a.problem(), a.version(), Duration.ofSeconds(10))) {
      throw new IllegalStateException("version " + a.version() + " of " + a.problem()
          + " was written but is not in force here after 10 s");
    }
    return new Outcome(a, p.changed(), warnings, p.schedule());
  }

  /**
   * The models a tier names explicitly that have not scored for the problem within the recent window: allowed
   * (that is how a model is staged before its runner starts) but worth a warning.
   */
  public List<String> unseenModels(Schedule schedule) {
    long since = clock.nowMicros() - recentMs * 1000;
    List<ScoreObserver.Sighting> seen = observer.models(schedule.problem());
    List<String> warnings = new ArrayList<>();
    List<String> warned = new ArrayList<>();
    for (int k = 0; k < schedule.tiers().size(); k++) {
      List<String> accept = schedule.tiers().get(k).accept();
      for (int j = 0; j < accept.size(); j++) {
        String id = accept.get(j);
        if (id.equals(Tier.ANY_SERVING) || warned.contains(id)) {
          continue;
        }
        boolean recent = seen.stream()
            .anyMatch(s -> Tier.names(id, s.modelId(), s.modelVersion()) && s.lastSeenUs() >= since);
        if (!recent) {
          warned.add(id);
          warnings.add("tiers[" + k + "].accept[" + j + "]: no runner has scored '" + id + "' for problem "
              + schedule.problem() + " in the last " + recentMs / 1000 + " s; it is accepted once one does");
        }
      }
    }
    return warnings;
  }

  /**
   * The status document of {@code GET /v2/models/{problem}/schedule}; null for a problem not served.
   *
   * @param admin whether the caller holds the admin token: only then does it name the Kafka cluster
   *     ({@code bootstrap_servers}, which the schedule command's what-if reads the recorded traffic from)
   */
  public ObjectNode status(String problem, boolean admin) {
    ScheduleRegistry.Versioned v = registry.current(problem).orElse(null);
    if (v == null || !problems.contains(problem)) {
      return null;
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("problem", problem);
    body.put("version", v.version());
    AppliedSchedule current = follower.current(problem).orElse(null);
    if (current != null) {
      body.put("applied_at", instant(current.appliedAtUs()));
      body.put("source", current.source());
      body.put("yaml", current.yaml());
    }
    ArrayNode tiers = body.putArray("tiers");
    for (Tier t : v.schedule().tiers()) {
      ObjectNode o = tiers.addObject().put("until_ms", t.untilMs());
      t.accept().forEach(o.putArray("accept")::add);
    }
    body.put("deadline_ms", v.schedule().deadlineMs());
    ArrayNode history = body.putArray("history");
    for (AppliedSchedule a : follower.history(problem)) {
      ObjectNode h = history.addObject().put("version", a.version()).put("applied_at", instant(a.appliedAtUs()))
          .put("source", a.source()).put("diff", shortened(a.diff()));
      if (a.rollbackOf() != null) {
        h.put("rollback_of", a.rollbackOf());
      }
    }
    long now = clock.nowMicros();
    ArrayNode models = body.putArray("models");
    for (ScoreObserver.Sighting s : observer.models(problem)) {
      boolean named = false;
      for (int k = 0; k < v.schedule().tiers().size(); k++) {
        named |= v.schedule().accepts(k, s.modelId(), s.modelVersion(), s.role());
      }
      ObjectNode m = models.addObject().put("model_id", s.modelId()).put("model_version", s.modelVersion())
          .put("role", s.role() == null ? null : s.role().name().toLowerCase())
          .put("device", s.device())
          .put("status", s.role() == Role.CANARY ? "canary" : named ? "serving" : "shadow")
          .put("last_seen", instant(s.lastSeenUs()))
          .put("seconds_since_seen", Math.round((now - s.lastSeenUs()) / 100_000.0) / 10.0)
          .put("scores", s.scores()).put("errors", s.errors());
      s.runners().forEach(m.putArray("runners")::add);
      if (!Double.isNaN(s.latencyP50Ms())) {
        m.putObject("latency_ms").put("p50", round(s.latencyP50Ms())).put("p99", round(s.latencyP99Ms()));
      }
    }
    unseenModels(v.schedule()).forEach(body.putArray("warnings")::add);
    Rejection r = lastRejected.get(problem);
    if (r != null) {
      body.putObject("last_rejected").put("at", instant(r.atUs())).put("source", r.source())
          .put("message", r.message());
    }
    if (admin) {
      body.put("bootstrap_servers", bootstrapServers);
    }
    return body;
  }

  /** Longest diff shown per version in the status; the log keeps the whole text. */
  static final int MAX_STATUS_DIFF_CHARS = 4096;

  /** A diff cut to {@link #MAX_STATUS_DIFF_CHARS}, so that the status stays small whatever was applied. */
  static String shortened(String diff) {
    if (diff == null || diff.length() <= MAX_STATUS_DIFF_CHARS) {
      return diff;
    }
    return diff.substring(0, MAX_STATUS_DIFF_CHARS) + "\n... (" + (diff.length() - MAX_STATUS_DIFF_CHARS)
        + " more characters; `schedule history --bootstrap-servers` reads the whole log)";
  }

  private static double round(double ms) {
    return Math.round(ms * 1000) / 1000.0;
  }

  private static String instant(long epochUs) {
    return Instant.ofEpochSecond(epochUs / 1_000_000, (epochUs % 1_000_000) * 1000).toString();
  }

  @Override
  public void close() throws InterruptedException {
    follower.close();
    observer.close();
  }
}
