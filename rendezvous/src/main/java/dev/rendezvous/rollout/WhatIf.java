package dev.rendezvous.rollout;

import dev.rendezvous.common.Arrival;
import dev.rendezvous.common.Result;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.schedule.Decision;
import dev.rendezvous.schedule.PendingRequest;
import dev.rendezvous.schedule.Schedule;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * Replays a proposed schedule against recorded traffic: for each recorded request, the scores that arrived
 * are fed to the same per-request engine the rendezvous runs ({@link PendingRequest}), at the times they
 * arrived, and the decision is compared with the one recorded.
 *
 * <p>Arrival times come from the results: every result lists the scores that had arrived by its decision,
 * with their times. Scores that arrived after the decision are not in the result; the reader adds them from
 * the scores topic with an estimated arrival time (see {@link RecordedTraffic}), so that a schedule that waits
 * longer can be judged too. The report counts how many such estimates it used.
 */
public final class WhatIf {

  private WhatIf() {}

  /**
   * One recorded request.
   *
   * @param result the decision recorded
   * @param budgetMs the request's own budget (deadline minus receipt), or null when not known: the proposed
   *     schedule's {@code deadline_ms} is assumed then
   * @param arrivals every score known to have arrived, with {@code atMs} after receipt: those the result lists,
   *     then any later ones
   * @param estimated how many of {@code arrivals} have an estimated time (they came after the decision)
   */
  public record Recorded(Result result, Double budgetMs, List<Arrival> arrivals, int estimated) {

    /** A request whose result lists every arrival there is to know of, and with the schedule's own deadline. */
    public static Recorded of(Result result) {
      return new Recorded(result, null, result.arrivals(), 0);
    }
  }

  /** What one schedule did (or would have done) over the replayed requests. */
  public static final class Side {
    private final Map<String, Long> byModel = new TreeMap<>();
    private final Map<String, Long> byTier = new TreeMap<>();
    private final Histogram latencyUs = new Histogram(3_600_000_000L, 3);
    private long requests;
    private long defaults;
    private double totalMs;

    void add(String answeredBy, Integer tier, boolean isDefault, double elapsedMs) {
      requests++;
      byModel.merge(answeredBy, 1L, Long::sum);
      byTier.merge(tier == null ? "default" : "tier " + tier, 1L, Long::sum);
      if (isDefault) {
        defaults++;
      }
      totalMs += elapsedMs;
      latencyUs.recordValue(Math.max(0, Math.round(elapsedMs * 1000)));
    }

    /** Answers per model id ({@code default} for the default). */
    public Map<String, Long> byModel() {
      return byModel;
    }

    /** Answers per tier ({@code tier 0}, ..., {@code default}). */
    public Map<String, Long> byTier() {
      return byTier;
    }

    public long requests() {
      return requests;
    }

    /** Share of answers of this model, 0 to 1. */
    public double share(String modelId) {
      return requests == 0 ? 0 : byModel.getOrDefault(modelId, 0L) / (double) requests;
    }

    /** Share of requests answered with the default, 0 to 1. */
    public double defaultRate() {
      return requests == 0 ? 0 : defaults / (double) requests;
    }

    /** Milliseconds from receipt to the decision at this percentile (0 to 100), to HdrHistogram's 3 digits. */
    public double latencyMs(double percentile) {
      return latencyUs.getValueAtPercentile(percentile) / 1000.0;
    }

    public double meanLatencyMs() {
      return requests == 0 ? 0 : totalMs / requests;
    }
  }

  /**
   * The comparison.
   *
   * @param recorded what the schedules in force at the time did
   * @param proposed what the proposed schedule would have done
   * @param changed requests whose answer would come from another model (or the default instead of a model)
   * @param estimatedArrivals arrivals whose time was estimated because they came after the recorded decision
   * @param assumedBudgets requests whose own deadline was not found, replayed with the schedule's deadline
   */
  public record Report(Side recorded, Side proposed, long changed, long estimatedArrivals, long assumedBudgets) {

    /** Share of requests whose answer would change, 0 to 1. */
    public double changedShare() {
      return recorded.requests() == 0 ? 0 : changed / (double) recorded.requests();
    }

    /** A side-by-side table for a terminal. */
    public String format() {
      StringBuilder b = new StringBuilder();
      b.append(String.format(Locale.ROOT, "%-24s %16s %16s%n", "", "recorded", "proposed"));
      b.append(row("requests", Long.toString(recorded.requests()), Long.toString(proposed.requests())));
      java.util.Set<String> models = new java.util.TreeSet<>(recorded.byModel().keySet());
      models.addAll(proposed.byModel().keySet());
      for (String m : models) {
        b.append(row("answered by " + m, pct(recorded.share(m)), pct(proposed.share(m))));
      }
      java.util.Set<String> tiers = new java.util.TreeSet<>(recorded.byTier().keySet());
      tiers.addAll(proposed.byTier().keySet());
      for (String t : tiers) {
        b.append(row("in " + t, pct(share(recorded.byTier(), t, recorded.requests())),
            pct(share(proposed.byTier(), t, proposed.requests()))));
      }
      b.append(row("default rate", pct(recorded.defaultRate()), pct(proposed.defaultRate())));
      b.append(row("latency mean ms", ms(recorded.meanLatencyMs()), ms(proposed.meanLatencyMs())));
      for (double p : new double[] {50, 90, 99, 100}) {
        String name = p == 100 ? "latency max ms" : "latency p" + (int) p + " ms";
        b.append(row(name, ms(recorded.latencyMs(p)), ms(proposed.latencyMs(p))));
      }
      b.append(String.format(Locale.ROOT, "answer would change for %s of requests (%d of %d)%n",
          pct(changedShare()), changed, recorded.requests()));
      if (estimatedArrivals > 0) {
        b.append(String.format(Locale.ROOT, "%d arrivals came after the recorded decision; their times are "
            + "estimated from the scores topic%n", estimatedArrivals));
      }
      if (assumedBudgets > 0) {
        b.append(String.format(Locale.ROOT, "%d requests' own deadlines were not found; replayed with the "
            + "schedule's deadline_ms%n", assumedBudgets));
      }
      return b.toString();
    }

    private static double share(Map<String, Long> counts, String key, long n) {
      return n == 0 ? 0 : counts.getOrDefault(key, 0L) / (double) n;
    }

    private static String row(String name, String a, String b) {
      return String.format(Locale.ROOT, "%-24s %16s %16s%n", name, a, b);
    }

    private static String pct(double share) {
      return String.format(Locale.ROOT, "%.1f%%", share * 100);
    }

    private static String ms(double v) {
      return String.format(Locale.ROOT, "%.3f", v);
    }
  }

  /** Replays every request under the proposed schedule and compares it with what was recorded. */
  public static Report replay(List<Recorded> traffic, Schedule proposed) {
    Side recorded = new Side();
    Side replayed = new Side();
    long changed = 0;
    long estimated = 0;
    long assumed = 0;
    for (Recorded r : traffic) {
      Result was = r.result();
      recorded.add(was.answeredBy(), was.tier(), was.isDefault(), was.elapsedMs());
      double budget = r.budgetMs() != null ? r.budgetMs() : proposed.deadlineMs();
      if (r.budgetMs() == null) {
        assumed++;
      }
      estimated += r.estimated();
      Decision d = decide(proposed, was.requestId(), r.arrivals(), budget);
      String answeredBy = d.isDefault() ? Result.DEFAULT : d.chosen().modelId();
      replayed.add(answeredBy, d.tier(), d.isDefault(), d.elapsedMs());
      if (!answeredBy.equals(was.answeredBy())) {
        changed++;
      }
    }
    return new Report(recorded, replayed, changed, estimated, assumed);
  }

  /**
   * The decision the schedule makes for one request whose scores arrive as listed: each arrival is fed at its
   * time, after every tier start or cutoff due before it. Time is counted from receipt.
   */
  public static Decision decide(Schedule schedule, String requestId, List<Arrival> arrivals, double budgetMs) {
    PendingRequest p = new PendingRequest(schedule, requestId, 0, Math.round(budgetMs * 1000));
    List<Arrival> inOrder = new ArrayList<>(arrivals);
    inOrder.sort(Comparator.comparingDouble(Arrival::atMs));
    for (Arrival a : inOrder) {
      long atUs = Math.round(a.atMs() * 1000);
      Optional<Decision> d = Optional.empty();
      while (d.isEmpty() && p.nextWakeupUs() <= atUs) {
        d = p.onTime(p.nextWakeupUs());
      }
      if (d.isEmpty()) {
        d = p.onScore(score(requestId, a), atUs);
      }
      if (d.isPresent()) {
        return d.get();
      }
    }
    while (true) {
      Optional<Decision> d = p.onTime(p.nextWakeupUs());
      if (d.isPresent()) {
        return d.get();
      }
    }
  }

  private static Score score(String requestId, Arrival a) {
    List<Tensor> none = List.of();
    return new Score(requestId, a.modelId(), a.modelVersion(), a.role(), a.error() ? null : none,
        a.error() ? "error recorded" : null, "replay", "replay", 0, 0, 0);
  }
}
