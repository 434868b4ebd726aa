package dev.rendezvous.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Admission decisions, with time driven by hand: the limit, the event-loop delay and the guard's timing. */
class AdmissionTest {

  final AtomicLong nowUs = new AtomicLong(1_000_000_000L);
  final SimpleMeterRegistry metrics = new SimpleMeterRegistry();

  Admission admission(AdmissionConfig config) {
    return new Admission(config, List.of("fraud"), nowUs::get, metrics);
  }

  static AdmissionConfig limits(int initial, int min, int max) {
    return limits(AdmissionConfig.defaults().limit(), initial, min, max);
  }

  static AdmissionConfig limits(String algorithm, int initial, int min, int max) {
    AdmissionConfig d = AdmissionConfig.defaults();
    return new AdmissionConfig(algorithm, initial, min, max, d.lagTargetMs(), d.lagIntervalMs(), d.lagProbeMs(),
        d.retryAfterSeconds(), d.guardMarginMs(), d.guardFollowsLag(), d.adminThreads());
  }

  double refused(String reason) {
    return metrics.get("rdv.proxy.refused").tags("problem", "fraud", "reason", reason).counter().count();
  }

  @Test
  void requests_beyond_the_limit_are_refused_and_counted_until_a_permit_comes_back() {
    Admission a = admission(limits(2, 2, 2));
    Admission.Decision first = a.admit("fraud");
    Admission.Decision second = a.admit("fraud");
    Admission.Decision third = a.admit("fraud");
    assertThat(first.admitted()).isTrue();
    assertThat(second.admitted()).isTrue();
    assertThat(third.admitted()).isFalse();
    assertThat(third.refusal()).isEqualTo(Admission.Reason.CONCURRENCY_LIMIT);
    assertThat(refused("concurrency-limit")).isEqualTo(1);
    assertThat(refused("event-loop-lag")).isZero();

    first.permit().answered(true);
    first.permit().release();
    first.permit().release(); // the end handler and a closed connection may both release: counted once
    assertThat(a.inFlight("fraud")).isEqualTo(1);
    assertThat(a.admit("fraud").admitted()).isTrue();
    assertThat(a.admit("fraud").admitted()).isFalse();
    assertThat(refused("concurrency-limit")).isEqualTo(2);
    assertThat(metrics.get("rdv.proxy.admission.limit").tags("problem", "fraud").gauge().value()).isEqualTo(2);
  }

  @Test
  void the_default_limit_shrinks_once_per_overload_and_grows_back_with_answers_in_time() {
    Admission a = admission(AdmissionConfig.defaults());
    assertThat(a.limit("fraud")).isEqualTo(20);
    for (int round = 0; round < 10; round++) {
      roundTrip(a, 48, true); // answers in time: a model's, or a default the schedule chose
    }
    int settled = a.limit("fraud");
    assertThat(settled).as("before any overload, each answer in time with half the limit in flight raises it")
        .isGreaterThan(100);

    // A stall: every request in flight is answered by the guard. One overload, one decrease of a tenth.
    roundTrip(a, 48, false);
    int afterStall = a.limit("fraud");
    assertThat(afterStall).isEqualTo((int) (settled * WindowedAimdLimit.BACKOFF_RATIO));
    List<Admission.Permit> held = new ArrayList<>();
    Admission.Decision d;
    while ((d = a.admit("fraud")).admitted()) {
      held.add(d.permit());
    }
    assertThat(held).as("the smaller limit is what admission enforces").hasSize(afterStall);
    held.forEach(Admission.Permit::release); // closed connections: neither success nor drop
    assertThat(a.limit("fraud")).isEqualTo(afterStall);

    // The overload lasts: requests admitted after that decrease are late too, and each round trip cuts again,
    // down to the floor.
    roundTrip(a, 48, false);
    assertThat(a.limit("fraud")).isEqualTo((int) (afterStall * WindowedAimdLimit.BACKOFF_RATIO));
    for (int round = 0; round < 40; round++) {
      roundTrip(a, 48, false);
    }
    assertThat(a.limit("fraud")).isEqualTo(AdmissionConfig.defaults().minLimit());
    for (int round = 0; round < 5; round++) {
      roundTrip(a, 10, true);
    }
    int recovering = a.limit("fraud");
    assertThat(recovering).as("right after an overload, answers in time grow it by at most one per round trip")
        .isBetween(AdmissionConfig.defaults().minLimit() + 1, AdmissionConfig.defaults().minLimit() + 5);
    nowUs.addAndGet(TimeUnit.NANOSECONDS.toMicros(WindowedAimdLimit.CALM_NANOS));
    roundTrip(a, 10, true);
    assertThat(a.limit("fraud")).as("a Retry-After later, by one per answer in time again")
        .isGreaterThanOrEqualTo(recovering + recovering / 2);
  }

  @Test
  void a_late_answer_of_a_request_admitted_before_the_last_decrease_does_not_cut_again() {
    Admission a = admission(limits(100, 5, 200));
    Admission.Permit early = a.admit("fraud").permit();
    nowUs.addAndGet(1_000);
    Admission.Permit cut = a.admit("fraud").permit();
    nowUs.addAndGet(47_000);
    cut.answered(false);
    cut.release();
    assertThat(a.limit("fraud")).isEqualTo(90);
    nowUs.addAndGet(1_000);
    early.answered(false); // admitted before the decrease: the same overload
    early.release();
    assertThat(a.limit("fraud")).isEqualTo(90);
    Admission.Permit after = a.admit("fraud").permit();
    nowUs.addAndGet(48_000);
    after.answered(false); // admitted after it: the overload goes on
    after.release();
    assertThat(a.limit("fraud")).isEqualTo(81);
  }

  @Test
  void with_gradient2_answers_slower_than_the_long_term_round_trip_shrink_the_limit() {
    Admission a = admission(limits("gradient2", 20, 1, 200));
    for (int round = 0; round < 60; round++) {
      roundTrip(a, 10, true); // 10 ms answers in time
    }
    int settled = a.limit("fraud");
    assertThat(settled).isGreaterThanOrEqualTo(20);
    // Defaults at the deadline: the pipeline is slower. (Gradient2 takes a latency that lasts for thousands
    // of answers as the new normal; the event-loop check does not.)
    roundTrip(a, 48, true);
    assertThat(a.limit("fraud")).isLessThan(settled / 2);
    // The smaller limit is what admission enforces.
    int admitted = 0;
    while (a.admit("fraud").admitted()) {
      admitted++;
    }
    assertThat(admitted).isEqualTo(a.limit("fraud"));
  }

  /** Admits as many as the limit allows, lets {@code rttMs} pass, and answers them all. */
  void roundTrip(Admission a, long rttMs, boolean inTime) {
    List<Admission.Permit> permits = new ArrayList<>();
    Admission.Decision d;
    while ((d = a.admit("fraud")).admitted()) {
      permits.add(d.permit());
    }
    nowUs.addAndGet(rttMs * 1000);
    for (Admission.Permit p : permits) {
      p.answered(inTime);
      p.release();
    }
  }

  @Test
  void a_standing_event_loop_delay_refuses_while_the_problem_is_busy_until_the_loop_is_on_time_again() {
    Admission a = admission(AdmissionConfig.defaults()); // limit 20
    List<Admission.Permit> busy = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      busy.add(a.admit("fraud").permit());
    }
    long due = nowUs.get();
    for (int i = 0; i < 12; i++) { // probes 20 ms late for 12 x 30 ms
      a.lag().probed(due, due + 20_000);
      due += 30_000;
    }
    assertThat(a.lag().overloaded()).isTrue();
    assertThat(a.admit("fraud").admitted()).as("9 in flight, admitted as the 10th: the delay is not ours")
        .isTrue();
    Admission.Decision d = a.admit("fraud");
    assertThat(d.admitted()).as("10 in flight, half the limit: busy").isFalse();
    assertThat(d.refusal()).isEqualTo(Admission.Reason.EVENT_LOOP_LAG);
    assertThat(refused("event-loop-lag")).isEqualTo(1);
    assertThat(a.inFlight("fraud")).as("a refusal takes no permit").isEqualTo(10);
    a.lag().probed(due, due + 1_000);
    assertThat(a.admit("fraud").admitted()).isTrue();
    assertThat(metrics.get("rdv.proxy.event.loop.lag").gauge().value()).isEqualTo(0.001);
  }

  @Test
  void the_event_loops_of_one_proxy_share_the_limit_and_each_refuses_for_its_own_delay_only() {
    List<Admission> loops = Admission.forEventLoops(2, limits(4, 4, 4), List.of("fraud"), nowUs::get, metrics);
    Admission first = loops.get(0);
    Admission second = loops.get(1);
    assertThat(first.admit("fraud").admitted()).isTrue();
    assertThat(second.admit("fraud").admitted()).isTrue();
    assertThat(first.inFlight("fraud")).as("one limit: each loop sees both").isEqualTo(2);
    assertThat(second.inFlight("fraud")).isEqualTo(2);

    long due = nowUs.get();
    for (int i = 0; i < 12; i++) { // the second loop's probes 20 ms late for 12 x 30 ms; the first's on time
      second.lag().probed(due, due + 20_000);
      first.lag().probed(due, due);
      due += 30_000;
    }
    Admission.Decision late = second.admit("fraud");
    assertThat(late.refusal()).as("2 in flight, half the limit: the late loop refuses").isEqualTo(
        Admission.Reason.EVENT_LOOP_LAG);
    assertThat(first.admit("fraud").admitted()).as("the loop on time admits").isTrue();
    assertThat(first.admit("fraud").admitted()).isTrue();
    Admission.Decision full = first.admit("fraud");
    assertThat(full.refusal()).as("4 in flight over both loops: the shared limit").isEqualTo(
        Admission.Reason.CONCURRENCY_LIMIT);
    assertThat(refused("event-loop-lag")).isEqualTo(1);
    assertThat(refused("concurrency-limit")).isEqualTo(1);
    assertThat(metrics.get("rdv.proxy.admission.limit").gauges()).as("one limit gauge per problem").hasSize(1);
    assertThat(metrics.get("rdv.proxy.event.loop.lag").tags("loop", "0").gauge().value()).isZero();
    assertThat(metrics.get("rdv.proxy.event.loop.lag").tags("loop", "1").gauge().value()).isEqualTo(0.02);
  }

  @Test
  void without_a_limit_a_standing_event_loop_delay_refuses_everything() {
    AdmissionConfig d = AdmissionConfig.defaults();
    Admission a = admission(new AdmissionConfig("none", 20, 20, 200, d.lagTargetMs(), d.lagIntervalMs(),
        d.lagProbeMs(), d.retryAfterSeconds(), d.guardMarginMs(), d.guardFollowsLag(), d.adminThreads()));
    long due = nowUs.get();
    for (int i = 0; i < 12; i++) {
      a.lag().probed(due, due + 20_000);
      due += 30_000;
    }
    assertThat(a.admit("fraud").refusal()).isEqualTo(Admission.Reason.EVENT_LOOP_LAG);
  }

  @Test
  void without_a_limit_only_the_event_loop_delay_refuses() {
    AdmissionConfig d = AdmissionConfig.defaults();
    Admission a = admission(new AdmissionConfig("none", 20, 20, 200, d.lagTargetMs(), d.lagIntervalMs(),
        d.lagProbeMs(), d.retryAfterSeconds(), d.guardMarginMs(), d.guardFollowsLag(), d.adminThreads()));
    for (int i = 0; i < 1000; i++) {
      assertThat(a.admit("fraud").admitted()).isTrue();
    }
    assertThat(a.limit("fraud")).isEqualTo(-1);
  }

  @Test
  void a_late_event_loop_arms_the_guard_earlier_by_its_smoothed_delay_up_to_a_quarter_of_the_budget() {
    Admission a = admission(AdmissionConfig.defaults());
    long received = nowUs.get();
    assertThat(a.guardDelayMs(received, received + 50_000)).as("a punctual loop: the margin alone").isEqualTo(47);
    long due = received;
    for (int i = 0; i < 40; i++) {
      a.lag().probed(due, due + 8_000); // every timer 8 ms late: a busy loop
      due += 10_000;
    }
    assertThat(a.lag().smoothedLagUs()).isBetween(7_800L, 8_000L);
    assertThat(a.guardDelayMs(received, received + 50_000)).as("3 ms margin and about 8 ms of delay").isEqualTo(39);
    assertThat(a.guardDelayMs(received, received + 20_000)).as("at most a quarter of a 20 ms budget: 5 ms")
        .isEqualTo(12);
    assertThat(metrics.get("rdv.proxy.guard.margin").tags("loop", "0").gauge().value()).isBetween(0.0109, 0.0111);

    a.lag().probed(due, due + 60_000); // one pause moves it by an eighth
    assertThat(a.lag().smoothedLagUs()).isBetween(14_000L, 15_000L);
    for (int i = 0; i < 60; i++) {
      due += 10_000;
      a.lag().probed(due, due);
    }
    assertThat(a.guardDelayMs(received, received + 50_000)).as("punctual again: back to the margin").isEqualTo(47);

    AdmissionConfig d = AdmissionConfig.defaults();
    Admission fixed = admission(new AdmissionConfig("none", 20, 20, 200, d.lagTargetMs(), d.lagIntervalMs(),
        d.lagProbeMs(), d.retryAfterSeconds(), d.guardMarginMs(), false, d.adminThreads()));
    for (int i = 0; i < 40; i++) {
      fixed.lag().probed(due, due + 8_000);
      due += 10_000;
    }
    assertThat(fixed.guardDelayMs(received, received + 50_000)).as("told not to follow the delay").isEqualTo(47);
  }

  @Test
  void the_guard_is_armed_the_margin_before_the_deadline_in_whole_milliseconds_and_its_lateness_is_measured() {
    assertThat(Admission.guardDelayMs(0, 50_000, 3)).isEqualTo(47);
    assertThat(Admission.guardDelayMs(0, 50_900, 3)).as("rounded down: never after deadline - margin")
        .isEqualTo(47);
    assertThat(Admission.guardDelayMs(0, 50_000, 0)).isEqualTo(50);
    assertThat(Admission.guardDelayMs(0, 2_000, 3)).as("a timer needs at least 1 ms").isEqualTo(1);

    Admission a = admission(AdmissionConfig.defaults());
    long received = nowUs.get();
    a.guardFired("fraud", received + 47_000, received + 47_000 + 1_500);
    a.guardFired("fraud", received + 47_000, received + 46_000); // early cannot happen; counts as 0
    var lateness = metrics.get("rdv.proxy.guard.lateness").tags("problem", "fraud").timer();
    assertThat(lateness.count()).isEqualTo(2);
    assertThat(lateness.max(TimeUnit.MICROSECONDS)).isEqualTo(1_500);
    assertThat(lateness.totalTime(TimeUnit.MICROSECONDS)).isEqualTo(1_500);
  }
}
