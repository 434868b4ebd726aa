package dev.rendezvous.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rendezvous.common.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunnerConfigTest {

  @Test
  void the_shipped_champion_config_loads_with_its_model_resolved_against_the_file() {
    RunnerConfig c = RunnerConfig.load(Path.of("config/breast-cancer/bc-mlp.yaml"));
    assertThat(c.modelId()).isEqualTo("bc-mlp");
    assertThat(c.modelVersion()).isEqualTo("2");
    assertThat(c.role()).isEqualTo(Role.SERVING);
    assertThat(c.model()).isEqualTo(Path.of("models/breast-cancer/bc-mlp-2.onnx").toAbsolutePath().normalize());
    assertThat(Files.exists(c.model())).isTrue();
    assertThat(c.groupId()).isEqualTo("rdv.breast-cancer.runner.bc-mlp@2");
    assertThat(c.faultDelayMs()).isZero();
    assertThat(c.faultDelayRandomMs()).isZero();
  }

  @Test
  void the_canary_config_has_the_canary_role() {
    RunnerConfig c = RunnerConfig.load(Path.of("../canary/config/breast-cancer/bc-canary.yaml"));
    assertThat(c.role()).isEqualTo(Role.CANARY);
    assertThat(Files.exists(c.model())).isTrue();
  }

  @Test
  void an_unknown_field_is_rejected_with_the_file_named(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, "problem: p\nmodel_id: m\nmodel_version: '1'\nmodel: m.onnx\nbatch: 3\n");
    assertThatThrownBy(() -> RunnerConfig.load(f)).hasMessageContaining("bad.yaml").hasMessageContaining("batch");
  }

  @Test
  void a_batch_size_below_one_is_rejected(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, "problem: p\nmodel_id: m\nmodel_version: '1'\nmodel: m.onnx\nbatch_size: 0\n");
    assertThatThrownBy(() -> RunnerConfig.load(f)).hasMessageContaining("batch_size must be at least 1");
  }

  @Test
  void an_onnx_runner_defaults_to_onnx_runtime_on_any_device_and_names_no_tensors() {
    RunnerConfig c = RunnerConfig.load(Path.of("config/breast-cancer/bc-mlp.yaml"));
    assertThat(c.engine()).isEqualTo("onnxruntime");
    assertThat(c.device()).isEqualTo("auto");
    assertThat(c.inputs()).isEmpty();
  }

  @Test
  void the_torchscript_runner_uses_djl_and_names_its_tensors() {
    RunnerConfig c = RunnerConfig.load(Path.of("config/breast-cancer/bc-torch.yaml"));
    assertThat(c.engine()).isEqualTo("djl");
    assertThat(c.modelVersion()).isEqualTo("1");
    assertThat(c.inputs()).extracting(s -> s.name() + " " + s.datatype()).containsExactly("features FP32");
    assertThat(c.inputs().get(0).shape()).containsExactly(-1, 30);
    assertThat(c.outputs()).extracting(s -> s.name()).containsExactly("probability");
    assertThat(Files.exists(c.model())).isTrue();
  }

  @Test
  void an_unknown_engine_is_rejected_with_the_ones_there_are(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, "problem: p\nmodel_id: m\nmodel_version: '1'\nmodel: m.onnx\nengine: tensorflow\n");
    assertThatThrownBy(() -> RunnerConfig.load(f)).hasMessageContaining("bad.yaml")
        .hasMessageContaining("[onnxruntime, djl]").hasMessageContaining("tensorflow");
  }

  @Test
  void a_device_is_auto_cpu_cuda_or_a_numbered_gpu(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("gpu.yaml");
    Files.writeString(f, "problem: p\nmodel_id: m\nmodel_version: '1'\nmodel: m.onnx\ndevice: CUDA:1\n");
    assertThat(RunnerConfig.load(f).device()).isEqualTo("cuda:1");
    assertThat(DeviceChoice.parse("cuda:1")).isEqualTo(new DeviceChoice(DeviceChoice.Kind.CUDA, 1));
    assertThat(DeviceChoice.parse("cpu").triesGpu()).isFalse();
    Files.writeString(f, "problem: p\nmodel_id: m\nmodel_version: '1'\nmodel: m.onnx\ndevice: cuda:-1\n");
    assertThatThrownBy(() -> RunnerConfig.load(f)).hasMessageContaining("auto, cpu, cuda or cuda:N");
  }
}
