package dev.rendezvous.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rendezvous.common.Role;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which consumer group and loop name a runner host takes, from its models' configurations alone. */
class RunnerHostGroupTest {

  static RunnerConfig config(String problem, String model, String groupId) {
    return new RunnerConfig(problem, model, "1", Role.SERVING, Path.of(model + ".onnx"), null, null, null, groupId,
        null, null);
  }

  @Test
  void aHostOfOneModelKeepsTheRunnersOwnGroupAndLoopName() {
    assertThat(RunnerHost.groupId(List.of(config("fraud", "gbt", null)))).isEqualTo("rdv.fraud.runner.gbt@1");
    assertThat(RunnerHost.groupId(List.of(config("fraud", "gbt", "pinned")))).isEqualTo("pinned");
    assertThat(RunnerHost.loopName(List.of(config("fraud", "gbt", null)))).isEqualTo("runner-fraud-gbt@1");
  }

  @Test
  void aHostOfSeveralIsNamedFromItsSortedModelIdsWhateverTheOrderGiven() {
    List<RunnerConfig> one = List.of(config("fraud", "mlp", null), config("fraud", "gbt", null),
        config("fraud", "canary", null));
    List<RunnerConfig> other = List.of(config("fraud", "gbt", null), config("fraud", "canary", null),
        config("fraud", "mlp", null));
    assertThat(RunnerHost.groupId(one)).isEqualTo("rdv.fraud.runner.canary@1+gbt@1+mlp@1")
        .isEqualTo(RunnerHost.groupId(other));
    assertThat(RunnerHost.loopName(one)).isEqualTo("runner-fraud-canary@1+gbt@1+mlp@1");
  }

  @Test
  void aGroupEveryModelNamesIsKeptAndMixedOnesAreNot() {
    assertThat(RunnerHost.groupId(List.of(config("fraud", "gbt", "shared"), config("fraud", "mlp", "shared"))))
        .isEqualTo("shared");
    assertThat(RunnerHost.groupId(List.of(config("fraud", "gbt", "shared"), config("fraud", "mlp", null))))
        .isEqualTo("rdv.fraud.runner.gbt@1+mlp@1");
  }

  @Test
  void aHostServesOneProblemAndEachModelOnce() {
    assertThatThrownBy(() -> RunnerHost.groupId(List.of(config("fraud", "gbt", null), config("churn", "mlp", null))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one problem").hasMessageContaining("churn");
    assertThatThrownBy(() -> RunnerHost.groupId(List.of(config("fraud", "gbt", null), config("fraud", "gbt", null))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gbt").hasMessageContaining("twice");
    assertThatThrownBy(() -> RunnerHost.groupId(List.of())).isInstanceOf(IllegalArgumentException.class);
  }
}
