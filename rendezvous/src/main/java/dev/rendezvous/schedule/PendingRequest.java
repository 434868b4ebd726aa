package dev.rendezvous.schedule;

import dev.rendezvous.common.Arrival;
import dev.rendezvous.common.Score;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Decision state for one request under one schedule. It never reads a clock: every call passes the current
 * time in epoch microseconds, so the same arrivals at the same times always give the same decision. Times
 * inside the schedule are milliseconds after {@code receivedAtUs}.
 *
 * <p>The owner calls {@link #onScore} for each score and {@link #onTime} at {@link #nextWakeupUs()}; a
 * late timer or an event processed out of turn still gives the decision the schedule prescribes, because
 * every call first catches up with the tier starts it passed.
 *
 * <p>Not thread-safe: one event loop owns it.
 */
public final class PendingRequest {

  private final Schedule schedule;
  private final String requestId;
  private final long receivedAtUs;
  private final long deadlineAtUs;
  /** Tier boundaries in microseconds after receipt; tier k is active on [startUs[k], endUs[k]). */
  private final long[] startUs;
  private final long[] endUs;
  /** Microseconds after receipt at which the default is due; may be zero or negative. */
  private final long cutoffUs;

  private final List<Arrival> arrivals = new ArrayList<>();
  /** Scores without an error, in arrival order: the candidates when a tier begins. */
  private final List<Score> usable = new ArrayList<>();
  /** The model versions that have scored, {@code id@version}: a second score from one is a duplicate. */
  private final Set<String> seenModels = new HashSet<>();
  /** The highest tier whose start has been handled; tier 0 begins before any score can arrive. */
  private int begun;
  private boolean decided;

  /**
   * @param schedule the schedule in force when the request arrived
   * @param requestId the request's id; scores for other requests are refused
   * @param receivedAtUs when the proxy received the request, epoch microseconds
   * @param deadlineAtUs when the client must have its answer, epoch microseconds; the proxy sets it from
   *     the schedule's {@code deadline_ms} when the request gave none
   */
  public PendingRequest(Schedule schedule, String requestId, long receivedAtUs, long deadlineAtUs) {
    this.schedule = Objects.requireNonNull(schedule, "schedule");
    this.requestId = Objects.requireNonNull(requestId, "requestId");
    this.receivedAtUs = receivedAtUs;
    this.deadlineAtUs = deadlineAtUs;
    List<Tier> tiers = schedule.tiers();
    startUs = new long[tiers.size()];
    endUs = new long[tiers.size()];
    startUs[0] = Long.MIN_VALUE;
    for (int k = 0; k < tiers.size(); k++) {
      endUs[k] = tiers.get(k).untilMs() * 1000;
      if (k > 0) {
        startUs[k] = endUs[k - 1];
      }
    }
    // Whole microseconds, so that the cutoff is exact; this is Schedule.cutoffMs in other units.
    long lastEndUs = endUs[endUs.length - 1];
    long marginUs = (schedule.deadlineMs() - schedule.lastUntilMs()) * 1000;
    cutoffUs = Math.min(lastEndUs, (deadlineAtUs - receivedAtUs) - marginUs);
  }

  /**
   * Records a score that arrived at {@code nowUs} and returns the decision made at that moment, if any:
   * normally this score, when the active tier accepts it. A score arriving at or after the cutoff is not
   * accepted and the default is returned. If a tier began since the last call and a score already here was
   * acceptable then, that earlier score is returned, as it would have been at the tier start. A second score
   * from the same model is ignored, and after a decision nothing is recorded and the result is empty.
   *
   * @throws IllegalArgumentException when the score is for another request
   */
  public Optional<Decision> onScore(Score score, long nowUs) {
    if (decided) {
      return Optional.empty();
    }
    if (!requestId.equals(score.requestId())) {
      throw new IllegalArgumentException(
          "score for request " + score.requestId() + " delivered to request " + requestId);
    }
    return advance(nowUs, score);
  }

  /**
   * Time has advanced to {@code nowUs}: returns a decision when a tier began with an acceptable score
   * already here, or when the cutoff has passed (the default). Empty otherwise, and after a decision.
   */
  public Optional<Decision> onTime(long nowUs) {
    if (decided) {
      return Optional.empty();
    }
    return advance(nowUs, null);
  }

  /**
   * The next instant, epoch microseconds, at which {@link #onTime} could decide: the start of the next tier
   * or the cutoff, whichever is first. It may lie in the past (a budget shorter than the schedule's margin).
   * {@link Long#MAX_VALUE} once decided.
   */
  public long nextWakeupUs() {
    if (decided) {
      return Long.MAX_VALUE;
    }
    int next = begun + 1;
    long at = next < startUs.length && startUs[next] < cutoffUs ? startUs[next] : cutoffUs;
    return receivedAtUs + at;
  }

  public boolean decided() {
    return decided;
  }

  /** Every score seen, errors included, in arrival order, with {@code atMs} relative to receipt. */
  public List<Arrival> arrivals() {
    return List.copyOf(arrivals);
  }

  public Schedule schedule() {
    return schedule;
  }

  public String requestId() {
    return requestId;
  }

  public long receivedAtUs() {
    return receivedAtUs;
  }

  public long deadlineAtUs() {
    return deadlineAtUs;
  }

  /** When the default is due, epoch microseconds. */
  public long cutoffAtUs() {
    return receivedAtUs + cutoffUs;
  }

  private Optional<Decision> advance(long nowUs, Score arriving) {
    long elapsedUs = nowUs - receivedAtUs;
    // Tiers that began strictly before now saw only the scores already recorded, not the arriving one.
    Choice choice = beginTiersBefore(elapsedUs);
    boolean fresh = arriving != null && seenModels.add(arriving.modelId() + Tier.VERSION_SEPARATOR + arriving.modelVersion());
    if (fresh) {
      record(arriving, elapsedUs);
    }
    if (choice != null) {
      return decide(choice, nowUs);
    }
    if (elapsedUs >= cutoffUs) {
      return decide(null, nowUs);
    }
    int active = activeTier(elapsedUs);
    if (begun < active) {
      // The active tier begins exactly now: a score arriving at the same instant competes by list order.
      begun = active;
      choice = best(active);
    } else if (fresh && !arriving.failed() && schedule.accepts(active, arriving.modelId(), arriving.modelVersion(),
        arriving.role())) {
      choice = new Choice(arriving, active);
    }
    return choice == null ? Optional.empty() : decide(choice, nowUs);
  }

  /** Handles the starts of tiers that began before {@code elapsedUs} and before the cutoff. */
  private Choice beginTiersBefore(long elapsedUs) {
    while (begun + 1 < startUs.length && startUs[begun + 1] < elapsedUs && startUs[begun + 1] < cutoffUs) {
      begun++;
      Choice choice = best(begun);
      if (choice != null) {
        return choice;
      }
    }
    return null;
  }

  /** The acceptable score whose model comes first in the tier's list; among equals, the earliest. */
  private Choice best(int tier) {
    Score best = null;
    int bestRank = Integer.MAX_VALUE;
    for (Score s : usable) {
      int rank = schedule.rank(tier, s.modelId(), s.modelVersion(), s.role());
      if (rank >= 0 && rank < bestRank) {
        best = s;
        bestRank = rank;
      }
    }
    return best == null ? null : new Choice(best, tier);
  }

  private int activeTier(long elapsedUs) {
    int k = 0;
    while (endUs[k] <= elapsedUs) {
      k++;
    }
    return k;
  }

  private void record(Score score, long elapsedUs) {
    arrivals.add(new Arrival(
        score.modelId(), score.modelVersion(), score.role(), elapsedUs / 1000.0, score.failed()));
    if (!score.failed()) {
      usable.add(score);
    }
  }

  private Optional<Decision> decide(Choice choice, long nowUs) {
    decided = true;
    double elapsedMs = (nowUs - receivedAtUs) / 1000.0;
    return Optional.of(choice == null
        ? new Decision(null, null, Decision.DEADLINE, elapsedMs, arrivals)
        : new Decision(choice.score(), choice.tier(), Decision.ACCEPTED, elapsedMs, arrivals));
  }

  private record Choice(Score score, int tier) {}
}
