package dev.rendezvous.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.common.Arrival;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Result;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import dev.rendezvous.rendezvous.RendezvousTable.Answer;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleRegistry;
import dev.rendezvous.schedule.Tier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The rendezvous table, with time driven by hand. Unless a test says otherwise: the breast-cancer schedule
 * (deadline 50 ms; tier 0 until 30 ms accepts [bc-gbt], tier 1 until 40 ms [bc-gbt, bc-mlp], tier 2 until
 * 45 ms ["*"], so the default is due at 45 ms), each request received at its own instant and read by the
 * rendezvous 1 ms later. Times in names are milliseconds after the request's receipt; TTLs and sweeps are in
 * milliseconds after the first record the table saw.
 */
class RendezvousTableTest {

  static final String PROBLEM = "breast-cancer";
  static final String GBT = "bc-gbt";
  static final String MLP = "bc-mlp";
  static final String LOGREG = "bc-logreg";
  /** An arbitrary epoch instant, microseconds: request "r1" is received here. */
  static final long T0 = 1_700_000_000_000_000L;

  final ScheduleRegistry schedules = new ScheduleRegistry();
  final Recorder listener = new Recorder();
  RendezvousTable table = table(config().build());

  RendezvousTableTest() {
    schedules.apply(breastCancer());
  }

  @Nested
  class Tier0From0To30ms {

    @Test
    void champion_score_at_12ms_is_accepted_by_tier_0_at_once() {
      assertThat(table.onInput(request("r1"), at(1))).isEmpty();
      assertThat(table.pendingCount()).isEqualTo(1);

      Result result = single(table.onScore(score("r1", GBT), at(12)));

      assertThat(result.answeredBy()).isEqualTo(GBT);
      assertThat(result.tier()).isEqualTo(0);
      assertThat(result.reason()).isEqualTo("accepted");
      assertThat(result.elapsedMs()).isEqualTo(12.0);
      assertThat(result.decidedAtUs()).isEqualTo(at(12));
      assertThat(result.outputs().get(0).data()).containsExactly(0.9);
      assertThat(result.scheduleVersion()).isEqualTo(1);
      assertThat(table.pendingCount()).isZero();
      assertThat(table.counts().decisions()).isEqualTo(1);
      assertThat(listener.decided).extracting(a -> a.result().requestId()).containsExactly("r1");
      assertThat(listener.arrived).containsExactly(GBT);
    }

    @Test
    void second_model_at_10ms_is_not_accepted_in_tier_0_and_the_request_waits_for_tier_1_at_30ms() {
      table.onInput(request("r1"), at(1));

      assertThat(table.onScore(score("r1", MLP), at(10))).isEmpty();

      assertThat(table.pendingCount()).isEqualTo(1);
      assertThat(table.nextWakeUpMicros()).isEqualTo(at(30));
    }
  }

  @Nested
  class TierBoundaryAt30ms {

    @Test
    void second_model_waiting_since_10ms_is_chosen_by_a_tick_at_exactly_30_000ms() {
      table.onInput(request("r1"), at(1));
      table.onScore(score("r1", MLP), at(10));

      assertThat(table.onTick(at(29.999))).isEmpty();
      Result result = single(table.onTick(at(30)));

      assertThat(result.answeredBy()).isEqualTo(MLP);
      assertThat(result.tier()).isEqualTo(1);
      assertThat(result.elapsedMs()).isEqualTo(30.0);
      assertThat(result.arrivals()).containsExactly(new Arrival(MLP, "1", Role.SERVING, 10.0, false));
    }

    @Test
    void second_model_arriving_at_exactly_30_000ms_is_accepted_by_tier_1_at_once() {
      table.onInput(request("r1"), at(1));

      Result result = single(table.onScore(score("r1", MLP), at(30)));

      assertThat(result.answeredBy()).isEqualTo(MLP);
      assertThat(result.tier()).isEqualTo(1);
    }

    @Test
    void a_late_timer_at_33ms_still_answers_as_tier_1_would_have_at_30ms() {
      table.onInput(request("r1"), at(1));
      table.onScore(score("r1", MLP), at(10));

      Result result = single(table.onTick(at(33)));

      assertThat(result.tier()).isEqualTo(1);
      assertThat(result.elapsedMs()).isEqualTo(33.0);
    }
  }

  @Nested
  class DefaultAt45ms {

    @Test
    void nothing_acceptable_by_45ms_gives_the_default_at_exactly_45_000ms() {
      table.onInput(request("r1"), at(1));
      table.onScore(score("r1", GBT, "model crashed"), at(5)); // an error is never accepted

      assertThat(table.onTick(at(30))).isEmpty();
      assertThat(table.onTick(at(40))).isEmpty();
      assertThat(table.nextWakeUpMicros()).isEqualTo(at(45));
      assertThat(table.onTick(at(44.999))).isEmpty();
      Result result = single(table.onTick(at(45)));

      assertThat(result.isDefault()).isTrue();
      assertThat(result.answeredBy()).isEqualTo(Result.DEFAULT);
      assertThat(result.tier()).isNull();
      assertThat(result.reason()).isEqualTo("deadline");
      assertThat(result.elapsedMs()).isEqualTo(45.0);
      assertThat(result.outputs().get(0).data()).containsExactly(0.0);
      assertThat(result.arrivals()).containsExactly(new Arrival(GBT, "1", Role.SERVING, 5.0, true));
      assertThat(table.counts().defaults()).isEqualTo(1);
      assertThat(listener.decided.get(0).metDeadline()).isTrue();
    }

    @Test
    void a_request_read_after_its_45ms_cutoff_gets_the_default_when_read_at_60ms() {
      Result result = single(table.onInput(request("r1"), at(60)));

      assertThat(result.reason()).isEqualTo("deadline");
      assertThat(result.elapsedMs()).isEqualTo(60.0);
      assertThat(listener.decided.get(0).metDeadline()).as("read after its 50 ms deadline").isFalse();
      assertThat(table.pendingCount()).isZero();
    }
  }

  @Nested
  class RequestDeadline {

    @Test
    void a_20ms_budget_cuts_everything_at_15ms_keeping_the_5ms_margin() {
      table.onInput(request("r1", T0, 20), at(1));

      assertThat(table.nextWakeUpMicros()).isEqualTo(at(15));
      assertThat(table.onTick(at(14.999))).isEmpty();
      Result result = single(table.onTick(at(15)));

      assertThat(result.reason()).isEqualTo("deadline");
      assertThat(result.elapsedMs()).isEqualTo(15.0);
    }

    @Test
    void with_a_20ms_budget_the_champion_at_14_999ms_is_still_accepted_by_tier_0() {
      table.onInput(request("r1", T0, 20), at(1));

      Result result = single(table.onScore(score("r1", GBT), at(14.999)));

      assertThat(result.tier()).isEqualTo(0);
    }
  }

  @Nested
  class Orphans {

    @Test
    void champion_score_at_3ms_before_its_request_is_read_at_5ms_decides_it_in_tier_0_as_of_3ms() {
      assertThat(table.onScore(score("r1", GBT), at(3))).isEmpty();
      assertThat(table.orphanCount()).isEqualTo(1);
      assertThat(table.pendingCount()).isZero();

      Result result = single(table.onInput(request("r1"), at(5)));

      assertThat(result.answeredBy()).isEqualTo(GBT);
      assertThat(result.tier()).isEqualTo(0);
      assertThat(result.elapsedMs()).as("decided at the orphan's arrival").isEqualTo(3.0);
      assertThat(result.decidedAtUs()).isEqualTo(at(5));
      assertThat(result.arrivals()).containsExactly(new Arrival(GBT, "1", Role.SERVING, 3.0, false));
      assertThat(table.orphanCount()).isZero();
      assertThat(table.pendingCount()).isZero();
    }

    @Test
    void second_model_at_3ms_before_its_request_counts_as_arrived_when_tier_1_begins_at_30ms() {
      table.onScore(score("r1", MLP), at(3));
      assertThat(table.onInput(request("r1"), at(5))).isEmpty();

      Result result = single(table.onTick(at(30)));

      assertThat(result.answeredBy()).isEqualTo(MLP);
      assertThat(result.tier()).isEqualTo(1);
      assertThat(result.arrivals()).containsExactly(new Arrival(MLP, "1", Role.SERVING, 3.0, false));
    }

    @Test
    void an_orphan_whose_request_never_comes_is_dropped_and_counted_by_the_first_sweep_after_its_2s_ttl() {
      table = table(config().orphanTtlMs(2_000).build());
      table.onScore(score("lost", GBT), at(0));
      assertThat(table.nextWakeUpMicros()).as("first sweep").isEqualTo(at(1_000));

      table.onTick(at(1_000));
      assertThat(table.orphanCount()).as("1 s old").isEqualTo(1);
      assertThat(table.nextWakeUpMicros()).isEqualTo(at(2_000));
      table.onTick(at(2_000));

      assertThat(table.orphanCount()).isZero();
      assertThat(table.counts().droppedOrphans()).isEqualTo(1);
      assertThat(listener.orphansDropped).containsExactly(1);
    }

    @Test
    void beyond_a_cap_of_2_orphans_the_oldest_request_s_orphans_are_dropped_at_once_and_counted() {
      table = table(config().maxOrphans(2).build());
      table.onScore(score("a", GBT), at(1));
      table.onScore(score("a", MLP), at(2));
      assertThat(table.counts().droppedOrphans()).isZero();

      table.onScore(score("b", GBT), at(3));

      assertThat(table.orphanCount()).isEqualTo(1);
      assertThat(table.counts().droppedOrphans()).isEqualTo(2);
      assertThat(listener.orphansDropped).containsExactly(2);
      assertThat(single(table.onInput(request("b"), at(4))).answeredBy()).as("b's orphan kept").isEqualTo(GBT);
    }
  }

  @Nested
  class Overload {

    @Test
    void with_2_requests_pending_and_a_cap_of_2_a_third_read_at_1ms_gets_the_default_at_once_reason_overload() {
      table = table(config().maxPending(2).build());
      table.onInput(request("r1"), at(1));
      table.onInput(request("r2"), at(1));

      Result result = single(table.onInput(request("r3"), at(1)));

      assertThat(result.requestId()).isEqualTo("r3");
      assertThat(result.isDefault()).isTrue();
      assertThat(result.reason()).isEqualTo("overload");
      assertThat(result.tier()).isNull();
      assertThat(result.elapsedMs()).isEqualTo(1.0);
      assertThat(result.outputs().get(0).data()).containsExactly(0.0);
      assertThat(result.arrivals()).isEmpty();
      assertThat(table.pendingCount()).isEqualTo(2);
      assertThat(table.counts().overloads()).isEqualTo(1);
      assertThat(table.counts().defaults()).isEqualTo(1);
      assertThat(table.onScore(score("r3", GBT), at(2))).as("r3 is decided").isEmpty();
      assertThat(table.counts().lateScores()).isEqualTo(1);
    }

    @Test
    void once_a_pending_request_is_decided_at_12ms_the_next_one_is_taken_in_again() {
      table = table(config().maxPending(1).build());
      table.onInput(request("r1"), at(1));
      table.onScore(score("r1", GBT), at(12));

      assertThat(table.onInput(request("r2"), at(13))).isEmpty();

      assertThat(table.pendingCount()).isEqualTo(1);
      assertThat(table.counts().overloads()).isZero();
    }
  }

  @Nested
  class LateAndDuplicateScores {

    @Test
    void second_model_at_20ms_after_the_champion_decided_at_12ms_is_counted_late_and_changes_nothing() {
      table.onInput(request("r1"), at(1));
      table.onScore(score("r1", GBT), at(12));

      assertThat(table.onScore(score("r1", MLP), at(20))).isEmpty();
      assertThat(table.onTick(at(45))).isEmpty();

      assertThat(table.counts().lateScores()).isEqualTo(1);
      assertThat(table.counts().decisions()).isEqualTo(1);
      assertThat(listener.late).containsExactly(MLP);
      assertThat(listener.arrived).as("late scores are still timed").containsExactly(GBT, MLP);
      assertThat(table.orphanCount()).isZero();
    }

    @Test
    void a_score_after_the_default_at_45ms_is_counted_late() {
      table.onInput(request("r1"), at(1));
      table.onTick(at(45));

      assertThat(table.onScore(score("r1", GBT), at(46))).isEmpty();

      assertThat(table.counts().lateScores()).isEqualTo(1);
    }

    @Test
    void a_second_score_from_the_second_model_at_20ms_is_ignored_and_the_first_one_at_10ms_answers_in_tier_1() {
      table.onInput(request("r1"), at(1));
      table.onScore(score("r1", MLP), at(10));

      assertThat(table.onScore(score("r1", MLP), at(20))).isEmpty();
      Result result = single(table.onTick(at(30)));

      assertThat(result.arrivals()).containsExactly(new Arrival(MLP, "1", Role.SERVING, 10.0, false));
      assertThat(table.counts().lateScores()).isZero();
    }

    @Test
    void a_redelivered_request_is_ignored_while_pending_and_after_its_decision() {
      table.onInput(request("r1"), at(1));
      assertThat(table.onInput(request("r1"), at(2))).isEmpty();
      assertThat(table.pendingCount()).isEqualTo(1);
      table.onScore(score("r1", GBT), at(12));

      assertThat(table.onInput(request("r1"), at(13))).isEmpty();

      assertThat(table.pendingCount()).isZero();
      assertThat(table.counts().decisions()).isEqualTo(1);
    }
  }

  @Nested
  class ScheduleChange {

    @Test
    void a_request_read_under_version_1_keeps_it_when_version_2_is_applied_before_the_next_request() {
      table.onInput(request("r1"), at(1));
      // Version 2 promotes the second model to tier 0.
      schedules.apply(schedule(50, new Tier(30, List.of(MLP)), new Tier(45, List.of(Tier.ANY_SERVING))));
      table.onInput(request("r2"), at(1));

      assertThat(table.onScore(score("r1", MLP), at(10))).as("version 1's tier 0 wants the champion").isEmpty();
      Result r2 = single(table.onScore(score("r2", MLP), at(10)));
      Result r1 = single(table.onTick(at(30)));

      assertThat(r2.tier()).isEqualTo(0);
      assertThat(r2.scheduleVersion()).isEqualTo(2);
      assertThat(r1.tier()).isEqualTo(1);
      assertThat(r1.scheduleVersion()).isEqualTo(1);
    }

    @Test
    void with_no_schedule_in_force_a_request_is_left_to_the_proxy_s_deadline_guard() {
      RendezvousTable other = new RendezvousTable(config().build(), new ScheduleRegistry(), listener);

      assertThat(other.onInput(request("r1"), at(1))).isEmpty();

      assertThat(other.pendingCount()).isZero();
      assertThat(other.nextWakeUpMicros()).as("only the sweep").isEqualTo(at(1_001));
    }
  }

  @Nested
  class DecidedIds {

    @Test
    void the_sweep_forgets_ids_decided_2s_ago_so_a_later_score_is_kept_as_an_orphan_not_counted_late() {
      table = table(config().decidedTtlMs(2_000).build());
      table.onInput(request("r1"), at(1));
      table.onScore(score("r1", GBT), at(12));
      assertThat(table.decidedCount()).isEqualTo(1);

      table.onTick(at(1_001));
      assertThat(table.decidedCount()).as("decided 0.989 s ago").isEqualTo(1);
      table.onTick(at(2_001));
      assertThat(table.decidedCount()).as("decided 1.989 s ago").isEqualTo(1);
      table.onTick(at(3_001));
      assertThat(table.decidedCount()).isZero();

      table.onScore(score("r1", MLP), at(3_002));
      assertThat(table.counts().lateScores()).isZero();
      assertThat(table.orphanCount()).isEqualTo(1);
    }

    @Test
    void with_a_cap_of_3_decided_ids_the_oldest_of_5_are_forgotten_at_once() {
      table = table(config().maxDecided(3).build());
      for (int i = 1; i <= 5; i++) {
        table.onInput(request("r" + i), at(1));
        table.onScore(score("r" + i, GBT), at(2));
      }

      assertThat(table.decidedCount()).isEqualTo(3);
      assertThat(table.counts().evictedDecided()).isEqualTo(2);
      table.onScore(score("r1", MLP), at(3));
      table.onScore(score("r5", MLP), at(3));
      assertThat(table.counts().lateScores()).as("r5 remembered").isEqualTo(1);
      assertThat(table.orphanCount()).as("r1 forgotten").isEqualTo(1);
    }
  }

  @Nested
  class WakeUpHeap {

    @Test
    void nothing_to_wake_for_before_the_first_record() {
      assertThat(table.nextWakeUpMicros()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void two_requests_due_at_the_same_instant_are_answered_in_the_order_they_were_read() {
      table.onInput(request("b"), at(1));
      table.onInput(request("a"), at(1));

      assertThat(table.onTick(at(45))).extracting(a -> a.result().requestId()).containsExactly("b", "a");
    }

    @Test
    void two_thousand_requests_are_each_decided_at_their_own_time_in_time_order_with_the_heap_bounded() {
      Random random = new Random(13);
      List<InferenceRequest> requests = new ArrayList<>();
      for (int i = 0; i < 2_000; i++) {
        // Received over 20 ms, in no particular order, with budgets of 30 to 60 ms (cutoffs 25 to 45 ms).
        long receivedAtUs = T0 + random.nextInt(20_000);
        requests.add(request("r" + i, receivedAtUs, 30 + random.nextInt(31)));
      }
      List<Answer> answers = new ArrayList<>();
      for (InferenceRequest r : requests) {
        answers.addAll(table.onInput(r, at(20)));
      }
      // Three requests in four get the champion's score 5 ms after their receipt (not before all are read).
      List<InferenceRequest> scored = new ArrayList<>();
      for (int i = 0; i < requests.size(); i++) {
        if (i % 4 != 0) {
          scored.add(requests.get(i));
        }
      }
      scored.sort(Comparator.comparingLong(InferenceRequest::receivedAtUs));
      for (InferenceRequest r : scored) {
        long now = Math.max(at(20), r.receivedAtUs() + 5_000);
        answers.addAll(table.onScore(score(r.requestId(), GBT, null, r.receivedAtUs()), now));
      }
      assertThat(answers).hasSize(1_500);
      assertThat(answers).allSatisfy(a -> assertThat(a.result().tier()).isEqualTo(0));
      int maxHeap = 0;
      while (table.pendingCount() > 0) {
        maxHeap = Math.max(maxHeap, table.wakeUpCount());
        long wakeUp = table.nextWakeUpMicros();
        List<Answer> due = table.onTick(wakeUp);
        for (Answer a : due) {
          assertThat(a.result().decidedAtUs()).isEqualTo(wakeUp);
        }
        answers.addAll(due);
      }

      assertThat(answers).hasSize(2_000);
      assertThat(answers).extracting(a -> a.result().requestId()).doesNotHaveDuplicates();
      List<Answer> defaults = answers.subList(1_500, 2_000);
      assertThat(defaults).allSatisfy(a -> {
        assertThat(a.result().reason()).isEqualTo("deadline");
        long budgetMs = (a.request().deadlineAtUs() - a.request().receivedAtUs()) / 1000;
        assertThat(a.result().decidedAtUs()).isEqualTo(a.request().receivedAtUs() + Math.min(45, budgetMs - 5) * 1000);
      });
      assertThat(defaults).extracting(a -> a.result().decidedAtUs()).isSortedAccordingTo(Comparator.naturalOrder());
      assertThat(maxHeap).as("stale wake-ups of the 1,500 decided by a score are purged")
          .isLessThanOrEqualTo(2 * 500 + 65);
      assertThat(table.counts().decisions()).isEqualTo(2_000);
      assertThat(listener.decided).hasSize(2_000);
    }
  }

  // --- fixtures ---

  static long at(double ms) {
    return T0 + Math.round(ms * 1000);
  }

  static Result single(List<Answer> answers) {
    assertThat(answers).hasSize(1);
    return answers.get(0).result();
  }

  RendezvousTable table(RendezvousConfig config) {
    return new RendezvousTable(config, schedules, listener);
  }

  static Schedule breastCancer() {
    return schedule(50,
        new Tier(30, List.of(GBT)),
        new Tier(40, List.of(GBT, MLP)),
        new Tier(45, List.of(Tier.ANY_SERVING)));
  }

  static Schedule schedule(long deadlineMs, Tier... tiers) {
    return new Schedule(PROBLEM, deadlineMs,
        List.of(new TensorSpec("features", "FP32", new long[] {-1, 30})),
        List.of(new TensorSpec("probability", "FP32", new long[] {-1, 1})),
        List.of(tiers),
        List.of(new Tensor("probability", "FP32", new long[] {1, 1}, new double[] {0.0})),
        "test");
  }

  /** Request {@code id} received at T0 with the schedule's 50 ms deadline. */
  static InferenceRequest request(String id) {
    return request(id, T0, 50);
  }

  static InferenceRequest request(String id, long receivedAtUs, long budgetMs) {
    return new InferenceRequest(id, "client-" + id, PROBLEM, "rdv.breast-cancer.results:0", receivedAtUs,
        receivedAtUs + budgetMs * 1000, List.of(new Tensor("features", "FP32", new long[] {1, 30}, new double[30])));
  }

  static Score score(String requestId, String model) {
    return score(requestId, model, null);
  }

  static Score score(String requestId, String model, String error) {
    return score(requestId, model, error, T0);
  }

  static Score score(String requestId, String model, String error, long receivedAtUs) {
    return new Score(requestId, model, "1", Role.SERVING,
        error != null ? null : List.of(new Tensor("probability", "FP32", new long[] {1, 1}, new double[] {0.9})),
        error, model + "-runner", "cpu", receivedAtUs, receivedAtUs, 100);
  }

  static ConfigBuilder config() {
    return new ConfigBuilder();
  }

  /** The documented defaults, with the bound under test changed. */
  static final class ConfigBuilder {
    private final RendezvousConfig d = RendezvousConfig.defaults(PROBLEM, "unused:9092");
    private int maxPending = d.maxPending();
    private long orphanTtlMs = d.orphanTtlMs();
    private int maxOrphans = d.maxOrphans();
    private long decidedTtlMs = d.decidedTtlMs();
    private int maxDecided = d.maxDecided();

    ConfigBuilder maxPending(int v) {
      maxPending = v;
      return this;
    }

    ConfigBuilder orphanTtlMs(long v) {
      orphanTtlMs = v;
      return this;
    }

    ConfigBuilder maxOrphans(int v) {
      maxOrphans = v;
      return this;
    }

    ConfigBuilder decidedTtlMs(long v) {
      decidedTtlMs = v;
      return this;
    }

    ConfigBuilder maxDecided(int v) {
      maxDecided = v;
      return this;
    }

    RendezvousConfig build() {
      return new RendezvousConfig(PROBLEM, d.bootstrapServers(), maxPending, orphanTtlMs, maxOrphans,
          decidedTtlMs, maxDecided);
    }
  }

  /** Remembers what the table reported, in order. */
  static final class Recorder implements RendezvousTable.Listener {
    final List<String> arrived = new ArrayList<>();
    final List<String> late = new ArrayList<>();
    final List<Integer> orphansDropped = new ArrayList<>();
    final List<Answer> decided = new ArrayList<>();

    @Override
    public void scoreArrived(Score score, long nowUs) {
      arrived.add(score.modelId());
    }

    @Override
    public void lateScore(Score score) {
      late.add(score.modelId());
    }

    @Override
    public void orphansDropped(int count) {
      orphansDropped.add(count);
    }

    @Override
    public void decided(Answer answer) {
      decided.add(answer);
    }
  }
}
