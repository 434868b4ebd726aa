package dev.rendezvous.schedule;

import static dev.rendezvous.schedule.Fixtures.CANARY;
import static dev.rendezvous.schedule.Fixtures.GBT;
import static dev.rendezvous.schedule.Fixtures.LOGREG;
import static dev.rendezvous.schedule.Fixtures.MLP;
import static dev.rendezvous.schedule.Fixtures.at;
import static dev.rendezvous.schedule.Fixtures.breastCancer;
import static dev.rendezvous.schedule.Fixtures.failed;
import static dev.rendezvous.schedule.Fixtures.request;
import static dev.rendezvous.schedule.Fixtures.schedule;
import static dev.rendezvous.schedule.Fixtures.score;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rendezvous.common.Arrival;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.Score;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The per-request rules, against the breast-cancer schedule unless a test says otherwise: deadline 50 ms,
 * tier 0 until 30 ms accepts [bc-gbt], tier 1 until 40 ms [bc-gbt, bc-mlp], tier 2 until 45 ms ["*"], so
 * the margin is 5 ms and the default is due at 45 ms. Times are milliseconds after receipt.
 */
class PendingRequestTest {

  private final PendingRequest request = request(breastCancer());

  @Nested
  class Tier0From0To30ms {

    @Test
    void champion_at_0ms_is_accepted_by_tier_0_at_once() {
      assertAccepted(request.onScore(score(GBT), at(0)), GBT, 0, 0.0);
    }

    @Test
    void champion_at_29_999ms_is_accepted_by_tier_0() {
      assertAccepted(request.onScore(score(GBT), at(29.999)), GBT, 0, 29.999);
    }

    @Test
    void second_model_at_10ms_is_not_accepted_in_tier_0_but_is_recorded() {
      assertThat(request.onScore(score(MLP), at(10))).isEmpty();
      assertThat(request.decided()).isFalse();
      assertThat(request.arrivals()).containsExactly(new Arrival(MLP, "1", Role.SERVING, 10.0, false));
    }

    @Test
    void any_other_serving_model_at_10ms_is_not_accepted_in_tier_0() {
      assertThat(request.onScore(score(LOGREG), at(10))).isEmpty();
    }

    @Test
    void time_at_29_999ms_with_the_second_model_waiting_decides_nothing() {
      request.onScore(score(MLP), at(10));
      assertThat(request.onTime(at(29.999))).isEmpty();
    }
  }

  @Nested
  class TierBoundaryAt30ms {

    @Test
    void second_model_waiting_since_10ms_is_accepted_when_tier_1_begins_at_30_000ms() {
      request.onScore(score(MLP), at(10));
      assertAccepted(request.onTime(at(30)), MLP, 1, 30.0);
    }

    @Test
    void second_model_arriving_at_29_999ms_waits_and_is_accepted_when_tier_1_begins_at_30_000ms() {
      assertThat(request.onScore(score(MLP), at(29.999))).isEmpty();
      assertAccepted(request.onTime(at(30)), MLP, 1, 30.0);
    }

    @Test
    void second_model_arriving_at_30_000ms_is_accepted_at_once_by_tier_1() {
      assertAccepted(request.onScore(score(MLP), at(30)), MLP, 1, 30.0);
    }

    @Test
    void second_model_arriving_at_30_001ms_is_accepted_at_once_by_tier_1() {
      request.onTime(at(30));
      assertAccepted(request.onScore(score(MLP), at(30.001)), MLP, 1, 30.001);
    }

    @Test
    void champion_arriving_at_30_000ms_is_accepted_by_tier_1() {
      assertAccepted(request.onScore(score(GBT), at(30)), GBT, 1, 30.0);
    }

    @Test
    void champion_arriving_at_30_000ms_beats_the_second_model_waiting_since_10ms_by_list_order() {
      request.onScore(score(MLP), at(10));
      assertAccepted(request.onScore(score(GBT), at(30)), GBT, 1, 30.0);
    }

    @Test
    void champion_arriving_at_30_001ms_loses_to_the_second_model_accepted_when_tier_1_began() {
      request.onScore(score(MLP), at(10));
      // The timer for 30 ms has not fired yet; the decision is still the one tier 1 made when it began.
      Optional<Decision> d = request.onScore(score(GBT), at(30.001));
      assertAccepted(d, MLP, 1, 30.001);
      assertThat(d.get().arrivals()).extracting(Arrival::modelId).containsExactly(MLP, GBT);
    }

    @Test
    void time_at_30_000ms_with_nothing_waiting_decides_nothing() {
      assertThat(request.onTime(at(30))).isEmpty();
    }
  }

  @Nested
  class Tier1From30To40ms {

    @Test
    void any_other_serving_model_at_35ms_is_not_accepted_in_tier_1() {
      request.onTime(at(30));
      assertThat(request.onScore(score(LOGREG), at(35))).isEmpty();
    }

    @Test
    void champion_at_39_999ms_is_accepted_by_tier_1() {
      request.onTime(at(30));
      assertAccepted(request.onScore(score(GBT), at(39.999)), GBT, 1, 39.999);
    }
  }

  @Nested
  class TierBoundaryAt40ms {

    @Test
    void other_model_waiting_since_35ms_is_accepted_when_tier_2_begins_at_40_000ms() {
      request.onTime(at(30));
      request.onScore(score(LOGREG), at(35));
      assertThat(request.onTime(at(39.999))).isEmpty();
      assertAccepted(request.onTime(at(40)), LOGREG, 2, 40.0);
    }

    @Test
    void other_model_arriving_at_39_999ms_waits_until_tier_2_begins_at_40_000ms() {
      request.onTime(at(30));
      assertThat(request.onScore(score(LOGREG), at(39.999))).isEmpty();
      assertAccepted(request.onTime(at(40)), LOGREG, 2, 40.0);
    }

    @Test
    void other_model_arriving_at_40_000ms_is_accepted_at_once_by_tier_2() {
      request.onTime(at(30));
      assertAccepted(request.onScore(score(LOGREG), at(40)), LOGREG, 2, 40.0);
    }

    @Test
    void other_model_arriving_at_40_001ms_is_accepted_at_once_by_tier_2() {
      request.onTime(at(30));
      request.onTime(at(40));
      assertAccepted(request.onScore(score(LOGREG), at(40.001)), LOGREG, 2, 40.001);
    }
  }

  @Nested
  class Tier2From40To45ms {

    @Test
    void champion_at_42ms_is_accepted_by_the_wildcard_of_tier_2() {
      assertAccepted(request.onScore(score(GBT), at(42)), GBT, 2, 42.0);
    }

    @Test
    void canary_at_41ms_is_not_accepted_by_the_wildcard_of_tier_2() {
      assertThat(request.onScore(score(CANARY), at(41))).isEmpty();
    }

    @Test
    void canary_waiting_since_10ms_is_not_chosen_at_30ms_or_40ms_and_the_default_follows_at_45ms() {
      request.onScore(score(CANARY), at(10));
      assertThat(request.onTime(at(30))).isEmpty();
      assertThat(request.onTime(at(40))).isEmpty();
      Optional<Decision> d = request.onTime(at(45));
      assertDefault(d, 45.0);
      assertThat(d.get().arrivals()).containsExactly(new Arrival(CANARY, "1", Role.CANARY, 10.0, false));
    }

    @Test
    void canary_named_in_tier_0_is_accepted_at_5ms() {
      PendingRequest r = request(schedule(50, new Tier(30, List.of(CANARY)), new Tier(45, List.of("*"))));
      assertAccepted(r.onScore(score(CANARY), at(5)), CANARY, 0, 5.0);
    }

    @Test
    void model_with_canary_role_is_refused_by_the_wildcard_even_under_a_serving_name() {
      assertThat(request.onScore(score(LOGREG, Role.CANARY), at(42))).isEmpty();
    }
  }

  @Nested
  class CutoffAt45ms {

    @Test
    void time_at_44_999ms_decides_nothing() {
      assertThat(request.onTime(at(44.999))).isEmpty();
    }

    @Test
    void score_at_44_999ms_is_accepted_by_tier_2() {
      assertAccepted(request.onScore(score(MLP), at(44.999)), MLP, 2, 44.999);
    }

    @Test
    void time_at_45_000ms_returns_the_default() {
      Optional<Decision> d = request.onTime(at(45));
      assertDefault(d, 45.0);
      assertThat(d.get().arrivals()).isEmpty();
    }

    @Test
    void champion_at_45_000ms_is_too_late_and_the_default_is_returned_with_its_arrival() {
      Optional<Decision> d = request.onScore(score(GBT), at(45));
      assertDefault(d, 45.0);
      assertThat(d.get().arrivals()).containsExactly(new Arrival(GBT, "1", Role.SERVING, 45.0, false));
    }

    @Test
    void champion_at_45_001ms_is_too_late_and_the_default_is_returned() {
      assertDefault(request.onScore(score(GBT), at(45.001)), 45.001);
    }

    @Test
    void score_waiting_since_10ms_is_still_chosen_by_tier_1_when_the_first_timer_fires_at_50ms() {
      request.onScore(score(MLP), at(10));
      // Tier 1 began at 30 ms with bc-mlp already here: that is the decision, however late it is observed.
      assertAccepted(request.onTime(at(50)), MLP, 1, 50.0);
    }
  }

  @Nested
  class RequestDeadlines {

    @Test
    void budget_of_100ms_keeps_the_cutoff_at_the_last_tier_end_45ms() {
      PendingRequest r = request(breastCancer(), 100);
      assertThat(r.cutoffAtUs()).isEqualTo(at(45));
      assertThat(r.onTime(at(44.999))).isEmpty();
      assertDefault(r.onTime(at(45)), 45.0);
    }

    @Test
    void budget_of_40ms_cuts_tier_1_at_35ms_so_a_score_at_34_999ms_is_accepted() {
      PendingRequest r = request(breastCancer(), 40);
      r.onTime(at(30));
      assertAccepted(r.onScore(score(MLP), at(34.999)), MLP, 1, 34.999);
    }

    @Test
    void budget_of_40ms_returns_the_default_at_35ms_and_tier_2_never_begins() {
      PendingRequest r = request(breastCancer(), 40);
      r.onScore(score(LOGREG), at(20));
      assertThat(r.onTime(at(30))).isEmpty();
      assertThat(r.onTime(at(34.999))).isEmpty();
      assertDefault(r.onTime(at(35)), 35.0);
    }

    @Test
    void budget_of_40ms_refuses_the_champion_at_35_000ms() {
      PendingRequest r = request(breastCancer(), 40);
      assertDefault(r.onScore(score(GBT), at(35)), 35.0);
    }

    @Test
    void budget_of_35ms_cuts_at_30ms_so_tier_1_never_begins_for_a_model_waiting_since_10ms() {
      PendingRequest r = request(breastCancer(), 35);
      r.onScore(score(MLP), at(10));
      assertDefault(r.onTime(at(30)), 30.0);
    }

    @Test
    void budget_of_4ms_is_less_than_the_5ms_margin_so_the_default_is_due_at_once() {
      PendingRequest r = request(breastCancer(), 4);
      assertThat(r.nextWakeupUs()).isEqualTo(at(-1));
      assertDefault(r.onTime(at(0)), 0.0);
    }

    @Test
    void budget_of_5ms_equal_to_the_margin_refuses_even_the_champion_at_0ms() {
      PendingRequest r = request(breastCancer(), 5);
      assertDefault(r.onScore(score(GBT), at(0)), 0.0);
    }

    @Test
    void budget_of_40_0005ms_cuts_at_35_0005ms_to_the_microsecond() {
      PendingRequest r = new PendingRequest(breastCancer(), Fixtures.REQUEST, at(0), at(0) + 40_000 + 1);
      assertThat(r.cutoffAtUs()).isEqualTo(at(35) + 1);
      assertThat(r.onTime(at(35))).isEmpty();
    }
  }

  @Nested
  class Errors {

    @Test
    void champion_error_at_5ms_is_never_accepted_but_is_recorded() {
      assertThat(request.onScore(failed(GBT), at(5))).isEmpty();
      assertThat(request.arrivals()).containsExactly(new Arrival(GBT, "1", Role.SERVING, 5.0, true));
    }

    @Test
    void error_waiting_since_10ms_is_not_chosen_when_tier_1_begins_at_30ms_or_tier_2_at_40ms() {
      request.onScore(failed(MLP), at(10));
      assertThat(request.onTime(at(30))).isEmpty();
      assertThat(request.onTime(at(40))).isEmpty();
      Optional<Decision> d = request.onTime(at(45));
      assertDefault(d, 45.0);
      assertThat(d.get().arrivals()).extracting(Arrival::error).containsExactly(true);
    }

    @Test
    void error_from_the_champion_at_5ms_lets_the_second_model_win_when_tier_1_begins_at_30ms() {
      request.onScore(failed(GBT), at(5));
      request.onScore(score(MLP), at(10));
      assertAccepted(request.onTime(at(30)), MLP, 1, 30.0);
    }

    @Test
    void error_arriving_at_42ms_in_the_wildcard_tier_2_is_not_accepted() {
      assertThat(request.onScore(failed(LOGREG), at(42))).isEmpty();
    }
  }

  @Nested
  class ListOrderWhenATierBegins {

    @Test
    void model_first_in_tier_1_list_wins_at_10ms_over_one_that_arrived_earlier() {
      PendingRequest r = request(schedule(50,
          new Tier(10, List.of("a")), new Tier(20, List.of("c", "b")), new Tier(45, List.of("*"))));
      r.onScore(score("b"), at(2));
      r.onScore(score("c"), at(5));
      assertAccepted(r.onTime(at(10)), "c", 1, 10.0);
    }

    @Test
    void wildcard_matches_in_tier_1_at_10ms_go_to_the_earliest_arrival() {
      PendingRequest r = request(schedule(50, new Tier(10, List.of("a")), new Tier(45, List.of("*"))));
      r.onScore(score("y"), at(2));
      r.onScore(score("x"), at(5));
      assertAccepted(r.onTime(at(10)), "y", 1, 10.0);
    }

    @Test
    void name_before_the_wildcard_in_tier_1_wins_at_10ms_over_an_earlier_wildcard_match() {
      PendingRequest r = request(schedule(50, new Tier(10, List.of("a")), new Tier(45, List.of("c", "*"))));
      r.onScore(score("x"), at(2));
      r.onScore(score("c"), at(5));
      assertAccepted(r.onTime(at(10)), "c", 1, 10.0);
    }

    @Test
    void name_after_the_wildcard_in_tier_1_ranks_with_it_so_the_earliest_wins_at_10ms() {
      PendingRequest r = request(schedule(50, new Tier(10, List.of("a")), new Tier(45, List.of("*", "c"))));
      r.onScore(score("x"), at(2));
      r.onScore(score("c"), at(5));
      assertAccepted(r.onTime(at(10)), "x", 1, 10.0);
    }

    @Test
    void canary_waiting_since_2ms_is_chosen_at_10ms_only_because_tier_1_names_it() {
      PendingRequest r = request(schedule(50,
          new Tier(10, List.of("a")), new Tier(45, List.of(CANARY, "*"))));
      r.onScore(score("x"), at(1));
      r.onScore(score(CANARY), at(2));
      assertAccepted(r.onTime(at(10)), CANARY, 1, 10.0);
    }

    @Test
    void several_tiers_passed_by_one_late_timer_at_12ms_each_begin_in_turn() {
      PendingRequest r = request(schedule(50,
          new Tier(5, List.of("a")), new Tier(10, List.of("b")), new Tier(45, List.of("c", "b"))));
      r.onScore(score("c"), at(1));
      r.onScore(score("b"), at(2));
      // Tier 1 began at 5 ms and accepted b, before tier 2 (which prefers c) began at 10 ms.
      assertAccepted(r.onTime(at(12)), "b", 1, 12.0);
    }
  }

  @Nested
  class Versions {

    /** Tier 0 until 30 ms accepts only version 3 of bc-mlp; tier 1 until 45 ms any version of bc-mlp. */
    private final PendingRequest r = request(schedule(50, new Tier(30, List.of(MLP + "@3")),
        new Tier(45, List.of(MLP))));

    @Test
    void version_2_at_5ms_is_not_accepted_by_a_tier_naming_version_3_which_is_at_8ms() {
      assertThat(r.onScore(score(MLP, "2", Role.SERVING), at(5))).isEmpty();
      Decision d = r.onScore(score(MLP, "3", Role.SERVING), at(8)).orElseThrow();
      assertThat(d.chosen().modelVersion()).isEqualTo("3");
      assertThat(d.tier()).isEqualTo(0);
    }

    @Test
    void version_2_waiting_since_5ms_is_accepted_when_the_tier_naming_any_version_begins_at_30ms() {
      r.onScore(score(MLP, "2", Role.SERVING), at(5));
      Decision d = r.onTime(at(30)).orElseThrow();
      assertThat(d.chosen().modelVersion()).isEqualTo("2");
      assertThat(d.tier()).isEqualTo(1);
    }

    @Test
    void two_versions_of_one_model_are_two_arrivals_not_a_duplicate() {
      r.onScore(score(MLP, "2", Role.SERVING), at(5));
      r.onScore(score(MLP, "4", Role.SERVING), at(6));
      assertThat(r.arrivals()).extracting(Arrival::modelVersion).containsExactly("2", "4");
    }
  }

  @Nested
  class Duplicates {

    @Test
    void second_score_from_the_same_model_at_20ms_is_ignored() {
      request.onScore(score(LOGREG), at(10));
      assertThat(request.onScore(score(LOGREG), at(20))).isEmpty();
      assertThat(request.arrivals()).extracting(Arrival::atMs).containsExactly(10.0);
    }

    @Test
    void champion_retried_at_20ms_after_its_error_at_5ms_is_ignored_as_a_duplicate() {
      request.onScore(failed(GBT), at(5));
      assertThat(request.onScore(score(GBT), at(20))).isEmpty();
      assertThat(request.arrivals()).extracting(Arrival::error).containsExactly(true);
    }

    @Test
    void duplicate_delivered_after_tier_1_began_still_yields_the_decision_due_at_30ms() {
      request.onScore(score(MLP), at(10));
      assertAccepted(request.onScore(score(MLP), at(31)), MLP, 1, 31.0);
      assertThat(request.arrivals()).hasSize(1);
    }

    @Test
    void after_the_decision_at_5ms_later_scores_and_times_return_nothing_and_are_not_recorded() {
      request.onScore(score(GBT), at(5));
      assertThat(request.onScore(score(GBT), at(6))).isEmpty();
      assertThat(request.onScore(score(MLP), at(7))).isEmpty();
      assertThat(request.onTime(at(45))).isEmpty();
      assertThat(request.decided()).isTrue();
      assertThat(request.arrivals()).extracting(Arrival::modelId).containsExactly(GBT);
    }
  }

  @Nested
  class Wakeups {

    @Test
    void next_wakeup_moves_from_30ms_to_40ms_to_the_45ms_cutoff_then_never() {
      assertThat(request.nextWakeupUs()).isEqualTo(at(30));
      request.onTime(at(30));
      assertThat(request.nextWakeupUs()).isEqualTo(at(40));
      request.onTime(at(40));
      assertThat(request.nextWakeupUs()).isEqualTo(at(45));
      request.onTime(at(45));
      assertThat(request.nextWakeupUs()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void early_timer_at_29_999ms_keeps_the_wakeup_at_30ms() {
      request.onTime(at(29.999));
      assertThat(request.nextWakeupUs()).isEqualTo(at(30));
    }

    @Test
    void late_timer_at_42ms_moves_the_wakeup_straight_to_the_45ms_cutoff() {
      request.onTime(at(42));
      assertThat(request.nextWakeupUs()).isEqualTo(at(45));
    }

    @Test
    void score_at_31ms_moves_the_wakeup_past_tier_1_to_40ms() {
      request.onScore(score(LOGREG), at(31));
      assertThat(request.nextWakeupUs()).isEqualTo(at(40));
    }

    @Test
    void budget_of_40ms_wakes_at_30ms_then_at_the_35ms_cutoff() {
      PendingRequest r = request(breastCancer(), 40);
      assertThat(r.nextWakeupUs()).isEqualTo(at(30));
      r.onTime(at(30));
      assertThat(r.nextWakeupUs()).isEqualTo(at(35));
    }

    @Test
    void budget_of_35ms_wakes_only_at_the_30ms_cutoff() {
      assertThat(request(breastCancer(), 35).nextWakeupUs()).isEqualTo(at(30));
    }

    @Test
    void accepted_score_at_5ms_leaves_no_wakeup() {
      request.onScore(score(GBT), at(5));
      assertThat(request.nextWakeupUs()).isEqualTo(Long.MAX_VALUE);
    }
  }

  @Test
  void decision_reports_elapsed_time_and_every_arrival_in_order_relative_to_receipt() {
    request.onScore(failed(LOGREG), at(3.25));
    request.onScore(score(MLP), at(12.5));
    Decision d = request.onScore(score(GBT), at(20.125)).orElseThrow();
    assertThat(d.elapsedMs()).isEqualTo(20.125);
    assertThat(d.arrivals()).containsExactly(
        new Arrival(LOGREG, "1", Role.SERVING, 3.25, true),
        new Arrival(MLP, "1", Role.SERVING, 12.5, false),
        new Arrival(GBT, "1", Role.SERVING, 20.125, false));
    assertThat(request.arrivals()).isEqualTo(d.arrivals());
  }

  @Test
  void score_for_another_request_is_refused() {
    Score other = new Score("req-2", GBT, "1", Role.SERVING, List.of(), null, "r", "cpu", 0, 0, 0);
    assertThatThrownBy(() -> request.onScore(other, at(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("req-2");
  }

  private static void assertAccepted(Optional<Decision> decision, String model, int tier, double elapsedMs) {
    assertThat(decision).hasValueSatisfying(d -> {
      assertThat(d.isDefault()).isFalse();
      assertThat(d.chosen().modelId()).isEqualTo(model);
      assertThat(d.tier()).isEqualTo(tier);
      assertThat(d.reason()).isEqualTo(Decision.ACCEPTED);
      assertThat(d.elapsedMs()).isEqualTo(elapsedMs);
    });
  }

  private static void assertDefault(Optional<Decision> decision, double elapsedMs) {
    assertThat(decision).hasValueSatisfying(d -> {
      assertThat(d.isDefault()).isTrue();
      assertThat(d.chosen()).isNull();
      assertThat(d.tier()).isNull();
      assertThat(d.reason()).isEqualTo(Decision.DEADLINE);
      assertThat(d.elapsedMs()).isEqualTo(elapsedMs);
    });
  }
}
