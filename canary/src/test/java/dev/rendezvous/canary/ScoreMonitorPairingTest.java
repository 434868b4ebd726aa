package dev.rendezvous.canary;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.common.Role;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How the monitor pairs a model's score with the canary's for the same request, fed by hand (no Kafka). */
class ScoreMonitorPairingTest {

  private static final long T0 = 1_000_000_000_000L;

  private final ScoreMonitor monitor = new ScoreMonitor(MonitorConfig.defaults("p"), null, new SimpleMeterRegistry());

  private static Score score(String requestId, String model, Role role, long receivedAtUs, double value) {
    return new Score(requestId, model, "1", role, List.of(new Tensor("probability", "FP64", new long[] {1, 1},
        new double[] {value})), null, "runner", "cpu", receivedAtUs, receivedAtUs + 1_000, 100);
  }

  private int pairs(String model) {
    return monitor.view(model).orElseThrow().pairs();
  }

  @Test
  void pairsAModelAndTheCanaryInEitherOrder() {
    monitor.accept(score("a", "champ", Role.SERVING, T0, 0.1));
    monitor.accept(score("a", "canary", Role.CANARY, T0, 0.2));
    monitor.accept(score("b", "canary", Role.CANARY, T0 + 10, 0.3));
    monitor.accept(score("b", "champ", Role.SERVING, T0 + 10, 0.4));

    assertThat(pairs("champ")).isEqualTo(2);
    assertThat(pairs("canary")).as("the canary is not paired with itself").isZero();
  }

  @Test
  void forgetsRequestsReceivedLongerThanThePairingTimeoutBeforeTheLatest() {
    // One request a millisecond for four pairing timeouts: the canary scores each, the champion only the first.
    long step = 1_000;
    int requests = (int) (4 * ScoreMonitor.PAIRING_TIMEOUT_US / step);
    monitor.accept(score("r0", "champ", Role.SERVING, T0, 0.5));
    for (int i = 0; i < requests; i++) {
      monitor.accept(score("r" + i, "canary", Role.CANARY, T0 + i * step, 0.5));
    }
    int waiting = (int) (ScoreMonitor.PAIRING_TIMEOUT_US / step) + 1;
    assertThat(monitor.pendingPairs()).as("only the last timeout's requests wait").isEqualTo(waiting);
    assertThat(pairs("champ")).isEqualTo(1);

    // A score within the timeout of the latest request pairs; an older one is dropped, not kept waiting.
    long latest = T0 + (requests - 1) * step;
    monitor.accept(score("r" + (requests - 1), "champ", Role.SERVING, latest, 0.5));
    monitor.accept(score("r" + (requests - waiting), "champ", Role.SERVING,
        latest - ScoreMonitor.PAIRING_TIMEOUT_US, 0.5));
    assertThat(pairs("champ")).isEqualTo(3);
    monitor.accept(score("r1", "champ", Role.SERVING, T0 + step, 0.5));
    assertThat(pairs("champ")).isEqualTo(3);
    assertThat(monitor.pendingPairs()).isEqualTo(waiting);
    assertThat(monitor.view("champ").orElseThrow().scores()).as("an unpaired score still counts for drift")
        .isEqualTo(4);
  }
}
