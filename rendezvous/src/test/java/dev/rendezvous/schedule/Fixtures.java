package dev.rendezvous.schedule;

import dev.rendezvous.common.Role;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import java.util.List;

/** The breast-cancer demo schedule and hand-made scores, with time as plain epoch microseconds. */
final class Fixtures {

  static final String REQUEST = "req-1";
  /** When the proxy received the request, epoch microseconds. */
  static final long RECEIVED_US = 1_700_000_000_000_000L;

  static final String GBT = "bc-gbt";
  static final String MLP = "bc-mlp";
  static final String LOGREG = "bc-logreg";
  static final String CANARY = "bc-canary";

  private Fixtures() {}

  /** Deadline 50 ms; tier 0 until 30 ms [bc-gbt]; tier 1 until 40 ms [bc-gbt, bc-mlp]; tier 2 until 45 ms ["*"]. */
  static Schedule breastCancer() {
    return schedule(50,
        new Tier(30, List.of(GBT)),
        new Tier(40, List.of(GBT, MLP)),
        new Tier(45, List.of(Tier.ANY_SERVING)));
  }

  static Schedule schedule(long deadlineMs, Tier... tiers) {
    return new Schedule("breast-cancer", deadlineMs,
        List.of(new TensorSpec("features", "FP32", new long[] {-1, 30})),
        List.of(new TensorSpec("probability", "FP32", new long[] {-1, 1})),
        List.of(tiers),
        List.of(new Tensor("probability", "FP32", new long[] {1, 1}, new double[] {0.0})),
        "test");
  }

  /** The instant {@code ms} milliseconds after receipt, in epoch microseconds. */
  static long at(double ms) {
    return RECEIVED_US + Math.round(ms * 1000);
  }

  /** A request whose deadline is {@code budgetMs} after receipt. */
  static PendingRequest request(Schedule schedule, double budgetMs) {
    return new PendingRequest(schedule, REQUEST, RECEIVED_US, at(budgetMs));
  }

  /** A request with the schedule's own deadline, as the proxy stamps one that gave none. */
  static PendingRequest request(Schedule schedule) {
    return request(schedule, schedule.deadlineMs());
  }

  static Score score(String model) {
    return score(model, model.equals(CANARY) ? Role.CANARY : Role.SERVING);
  }

  static Score score(String model, Role role) {
    return score(model, "1", role);
  }

  static Score score(String model, String version, Role role) {
    return new Score(REQUEST, model, version, role,
        List.of(new Tensor("probability", "FP32", new long[] {1, 1}, new double[] {0.9})),
        null, model + "-runner", "cpu", RECEIVED_US, RECEIVED_US, 100);
  }

  static Score failed(String model) {
    return new Score(REQUEST, model, "1", Role.SERVING, null, "model crashed", model + "-runner", "cpu",
        RECEIVED_US, RECEIVED_US, 100);
  }
}
