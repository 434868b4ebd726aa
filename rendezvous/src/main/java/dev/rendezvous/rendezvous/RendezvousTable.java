package dev.rendezvous.rendezvous;

import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Result;
import dev.rendezvous.common.Score;
import dev.rendezvous.schedule.Decision;
import dev.rendezvous.schedule.PendingRequest;
import dev.rendezvous.schedule.ScheduleRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One problem's rendezvous state, with no I/O and no clock: every call passes the current time in epoch
 * microseconds and gets back the answers to publish, so the same records at the same times always give the
 * same answers. The owner feeds it the input and scores records ({@link #onInput}, {@link #onScore}) and calls
 * {@link #onTick} at {@link #nextWakeUpMicros()}; what it counts or drops it reports to a {@link Listener}.
 *
 * <p>What it holds, each bounded by a cap and a time to live from {@link RendezvousConfig}:
 * <ul>
 *   <li><b>pending requests</b>, read and not yet decided, each with the {@link PendingRequest} engine and the
 *       schedule version in force when it was read (a request is decided under that version to the end).
 *       Cap {@code maxPending}: a request read when the table is full gets the default at once, reason
 *       {@code overload}. Lifetime: until the request's cutoff, at most its schedule's last tier.</li>
 *   <li><b>the wake-up heap</b>: one entry per pending request for the next instant its decision can change
 *       (a tier start or the cutoff), ordered by time and then by arrival. An entry whose request a score has
 *       decided stays until it comes up or until such entries outnumber the live ones, when they are purged,
 *       so the heap holds at most about twice {@code maxPending} entries.</li>
 *   <li><b>orphan scores</b>, which arrived before their request (input and scores are separate topics).
 *       When the request comes, they are replayed at the times they arrived. TTL {@code orphanTtlMs}, cap
 *       {@code maxOrphans} scores: past either, the oldest are dropped and counted.</li>
 *   <li><b>decided ids</b>, so that a score for a decided request is counted as late (not kept as an orphan)
 *       and a redelivered request is not decided twice. TTL {@code decidedTtlMs}, cap {@code maxDecided}:
 *       past either, the oldest are forgotten.</li>
 * </ul>
 * TTLs are enforced by a sweep every {@link #SWEEP_INTERVAL_US} microseconds, so an entry may outlive its TTL by
 * up to one interval; caps are enforced at once.
 *
 * <p>Not thread-safe: one event loop owns it.
 */
public final class RendezvousTable {

  /** How often, in microseconds, expired orphans and decided ids are swept: one second. */
  public static final long SWEEP_INTERVAL_US = 1_000_000;

  /** The reason of a default returned because the pending table was full. */
  public static final String OVERLOAD = "overload";

  private static final Logger LOG = LoggerFactory.getLogger(RendezvousTable.class);

  /** A decided request, ready to publish: the result goes to the request's return address. */
  public record Answer(InferenceRequest request, Result result) {

    /** True when the result was decided by the request's deadline (the client may still be waiting). */
    public boolean metDeadline() {
      return result.decidedAtUs() <= request.deadlineAtUs();
    }
  }

  /**
   * What the table observed, for metrics. Called on the owner's thread, in the order things happened; every
   * method defaults to doing nothing.
   */
  public interface Listener {

    /** A score reached the rendezvous at {@code nowUs}, whatever became of it (late scores included). */
    default void scoreArrived(Score score, long nowUs) {}

    /** A score arrived after its request was decided; it changes nothing. */
    default void lateScore(Score score) {}

    /** {@code count} orphan scores were dropped: their request did not come within the orphan TTL or cap. */
    default void orphansDropped(int count) {}

    /** A request was decided; the answer is also returned to the caller for publishing. */
    default void decided(Answer answer) {}
  }

  /**
   * Running totals since the table was made.
   *
   * @param decisions requests decided, defaults included
   * @param defaults decisions that returned the schedule's default, overloads included
   * @param overloads requests given the default at once because the pending table was full
   * @param lateScores scores that arrived after their request was decided
   * @param droppedOrphans scores dropped because their request did not come within the orphan TTL or cap
   * @param evictedDecided decided ids forgotten before their TTL because the cap was reached
   */
  public record Counts(long decisions, long defaults, long overloads, long lateScores, long droppedOrphans,
      long evictedDecided) {}

  private static final class Entry {
    final InferenceRequest request;
    final PendingRequest state;
    final ScheduleRegistry.Versioned schedule;
    final double readAtMs;

    Entry(InferenceRequest request, PendingRequest state, ScheduleRegistry.Versioned schedule, double readAtMs) {
      this.request = request;
      this.state = state;
      this.schedule = schedule;
      this.readAtMs = readAtMs;
    }
  }

  /** A wake-up; {@code seq} keeps wake-ups due at the same instant in the order they were queued. */
  private record Wake(long atUs, long seq, Entry entry) {}

  private record Orphan(Score score, long arrivedAtUs) {}

  private final RendezvousConfig config;
  private final ScheduleRegistry schedules;
  private final Listener listener;
  private final Map<String, Entry> pending = new HashMap<>();
  private final PriorityQueue<Wake> wakes = new PriorityQueue<>((a, b) ->
      a.atUs != b.atUs ? Long.compare(a.atUs, b.atUs) : Long.compare(a.seq, b.seq));
  /** In order of each request's first orphan, which is also the order in which they expire. */
  private final LinkedHashMap<String, List<Orphan>> orphans = new LinkedHashMap<>();
  /** Decided request ids with their decision times, forgotten oldest first. */
  private final DecidedIds decided;
  private long wakeSeq;
  private int orphanScores;
  private long nextSweepAtUs = Long.MAX_VALUE;
  private long decisions;
  private long defaults;
  private long overloads;
  private long lateScores;
  private long droppedOrphans;
  private long evictedDecided;

  /**
   * @param config the caps and TTLs (its problem names the schedule to read)
   * @param schedules where the schedule in force is read when each request arrives
   * @param listener told of every score, late score, dropped orphan and decision
   */
  public RendezvousTable(RendezvousConfig config, ScheduleRegistry schedules, Listener listener) {
    this.config = Objects.requireNonNull(config, "config");
    this.schedules = Objects.requireNonNull(schedules, "schedules");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.decided = new DecidedIds(config.maxDecided());
  }

  /**
   * A request was read from the input topic at {@code nowUs}. It is decided at once when the table is full
   * (the default, reason {@code overload}), when scores that came before it already decide it, or when its
   * cutoff has passed; otherwise it waits. A request already pending or decided is ignored (a redelivery), and
   * so is one of a problem with no schedule in force: the proxy's deadline guard answers it.
   *
   * @return the answer to publish, if the request was decided now
   */
  public List<Answer> onInput(InferenceRequest request, long nowUs) {
    startSweeping(nowUs);
    String id = request.requestId();
    if (pending.containsKey(id) || decided.contains(id)) {
      return List.of();
    }
    ScheduleRegistry.Versioned versioned = schedules.current(config.problem()).orElse(null);
    if (versioned == null) {
      LOG.warn("rendezvous {} has no schedule; request {} left to the proxy's deadline guard",
          config.problem(), id);
      return List.of();
    }
    Entry entry = new Entry(request, new PendingRequest(versioned.schedule(), id, request.receivedAtUs(),
        request.deadlineAtUs()), versioned, (nowUs - request.receivedAtUs()) / 1000.0);
    if (pending.size() >= config.maxPending()) {
      // Scores that came before it stay orphans: the sweep counts them when their TTL ends.
      overloads++;
      return List.of(decide(entry, null, OVERLOAD, nowUs));
    }
    List<Orphan> early = orphans.remove(id);
    if (early != null) {
      orphanScores -= early.size();
      for (Orphan o : early) {
        Decision d = entry.state.onScore(o.score(), o.arrivedAtUs()).orElse(null);
        if (d != null) {
          return List.of(decide(entry, d, null, nowUs));
        }
      }
    }
    Decision d = entry.state.onTime(nowUs).orElse(null);
    if (d != null) {
      return List.of(decide(entry, d, null, nowUs));
    }
    pending.put(id, entry);
    wakes.add(new Wake(entry.state.nextWakeupUs(), wakeSeq++, entry));
    return List.of();
  }

  /**
   * A score was read from the scores topic at {@code nowUs}. It decides its pending request when the active
   * tier accepts it; a score for a decided request is counted as late, and one for a request not read yet is
   * kept as an orphan until the request comes. A second score from the same model is ignored.
   *
   * @return the answer to publish, if the score decided its request
   */
  public List<Answer> onScore(Score score, long nowUs) {
    startSweeping(nowUs);
    listener.scoreArrived(score, nowUs);
    Entry entry = pending.get(score.requestId());
    if (entry == null) {
      if (decided.contains(score.requestId())) {
        lateScores++;
        listener.lateScore(score);
      } else {
        keepOrphan(score, nowUs);
      }
      return List.of();
    }
    Decision d = entry.state.onScore(score, nowUs).orElse(null);
    if (d == null) {
      return List.of();
    }
    pending.remove(score.requestId());
    Answer answer = decide(entry, d, null, nowUs);
    purgeStaleWakes();
    return List.of(answer);
  }

  /**
   * Time has reached {@code nowUs}: decides every pending request whose wake-up is due and whose schedule now
   * prescribes an answer (a tier began with an acceptable score waiting, or the cutoff passed), in order of
   * wake-up time, and sweeps expired orphans and decided ids when a sweep is due. Calling it early or more
   * often than needed is harmless.
   *
   * @return the answers to publish, in order of wake-up time
   */
  public List<Answer> onTick(long nowUs) {
    startSweeping(nowUs);
    List<Answer> answers = List.of();
    while (!wakes.isEmpty() && wakes.peek().atUs() <= nowUs) {
      Wake wake = wakes.poll();
      Entry entry = wake.entry();
      if (entry.state.decided()) {
        continue; // a score decided it since this wake-up was queued
      }
      Decision d = entry.state.onTime(nowUs).orElse(null);
      if (d != null) {
        pending.remove(entry.request.requestId());
        if (answers.isEmpty()) {
          answers = new ArrayList<>();
        }
        answers.add(decide(entry, d, null, nowUs));
      } else {
        wakes.add(new Wake(entry.state.nextWakeupUs(), wakeSeq++, entry));
      }
    }
    if (nowUs >= nextSweepAtUs) {
      sweep(nowUs);
      nextSweepAtUs = nowUs + SWEEP_INTERVAL_US;
    }
    return answers;
  }

  /**
   * When {@link #onTick} should next be called, epoch microseconds: the earliest wake-up of a pending request
   * or the next sweep. It may lie in the past (call at once). {@link Long#MAX_VALUE} before the first record,
   * when there is nothing to wait for.
   */
  public long nextWakeUpMicros() {
    Wake head = wakes.peek();
    return Math.min(head == null ? Long.MAX_VALUE : head.atUs(), nextSweepAtUs);
  }

  /** Requests read and not yet decided. */
  public int pendingCount() {
    return pending.size();
  }

  /** Scores waiting for their request. */
  public int orphanCount() {
    return orphanScores;
  }

  /** Decided request ids remembered. */
  public int decidedCount() {
    return decided.size();
  }

  /** Entries in the wake-up heap, including those of requests a score has decided since. */
  public int wakeUpCount() {
    return wakes.size();
  }

  public Counts counts() {
    return new Counts(decisions, defaults, overloads, lateScores, droppedOrphans, evictedDecided);
  }

  private void startSweeping(long nowUs) {
    if (nextSweepAtUs == Long.MAX_VALUE) {
      nextSweepAtUs = nowUs + SWEEP_INTERVAL_US;
    }
  }

  private void keepOrphan(Score score, long nowUs) {
    orphans.computeIfAbsent(score.requestId(), k -> new ArrayList<>(2)).add(new Orphan(score, nowUs));
    orphanScores++;
    int dropped = 0;
    for (Iterator<List<Orphan>> it = orphans.values().iterator(); orphanScores > config.maxOrphans(); ) {
      List<Orphan> oldest = it.next();
      dropped += oldest.size();
      orphanScores -= oldest.size();
      it.remove();
    }
    if (dropped > 0) {
      droppedOrphans += dropped;
      listener.orphansDropped(dropped);
    }
  }

  private Answer decide(Entry entry, Decision d, String overrideReason, long nowUs) {
    InferenceRequest r = entry.request;
    ScheduleRegistry.Versioned versioned = entry.schedule;
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
        d != null ? d.elapsedMs() : (nowUs - r.receivedAtUs()) / 1000.0,
        isDefault ? versioned.schedule().defaultOutputs(r.inputs().get(0).rows()) : d.chosen().outputs(),
        versioned.version(),
        d != null ? d.arrivals() : List.of(),
        nowUs);
    if (LOG.isDebugEnabled()) {
      LOG.debug("decided {} at {} ms: {} (tier {}, {}); read at {} ms; arrivals {}", r.requestId(),
          result.elapsedMs(), result.answeredBy(), result.tier(), result.reason(), entry.readAtMs,
          result.arrivals());
    }
    if (decided.add(r.requestId(), nowUs)) {
      evictedDecided++;
    }
    decisions++;
    if (isDefault) {
      defaults++;
    }
    Answer answer = new Answer(r, result);
    listener.decided(answer);
    return answer;
  }

  /**
   * Drops the wake-ups of requests decided by a score once they outnumber the live ones, so the heap stays
   * within about twice the pending table however long the schedule's tiers are. Amortised: each purge removes
   * at least half the heap.
   */
  private void purgeStaleWakes() {
    if (wakes.size() > 2 * pending.size() + 64) {
      wakes.removeIf(w -> w.entry().state.decided());
    }
  }

  private void sweep(long nowUs) {
    long orphanLimit = nowUs - config.orphanTtlMs() * 1000;
    int dropped = 0;
    for (Iterator<List<Orphan>> it = orphans.values().iterator(); it.hasNext(); ) {
      List<Orphan> list = it.next();
      if (list.get(0).arrivedAtUs() > orphanLimit) {
        break;
      }
      dropped += list.size();
      it.remove();
    }
    if (dropped > 0) {
      orphanScores -= dropped;
      droppedOrphans += dropped;
      listener.orphansDropped(dropped);
    }
    decided.forgetUpTo(nowUs - config.decidedTtlMs() * 1000);
  }
}
