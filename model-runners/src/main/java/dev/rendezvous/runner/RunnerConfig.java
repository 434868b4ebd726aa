package dev.rendezvous.runner;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * One runner's configuration, read from a small YAML file. Every field, its default and its meaning:
 *
 * <ul>
 *   <li>{@code problem} (required): the served problem whose input topic this runner reads.
 *   <li>{@code model_id} (required): the id schedules name this model by.
 *   <li>{@code model_version} (required): the version reported with every score.
 *   <li>{@code role} ({@code serving}): {@code serving} or {@code canary}; a canary answers only when a
 *       schedule names it explicitly.
 *   <li>{@code model} (required): path of the ONNX file, relative to the configuration file.
 *   <li>{@code batch_size} (64): the most requests scored in one inference call; a poll that returns more
 *       is scored in several calls. 64 is where the demo models' cost per request stops falling by more
 *       than a fraction of a microsecond (measured in docs/gpu-and-engines.md).
 *   <li>{@code intra_op_threads} (1) and {@code inter_op_threads} (1): ONNX Runtime thread pools per
 *       session; one each keeps several runners on a small machine from fighting over cores.
 *   <li>{@code group_id} ({@code rdv.<problem>.runner.<model_id>@<model_version>}): the consumer group of this
 *       runner alone; replicas of one model version share it and split the load, every other model version (a
 *       new version of the same model included) has its own and sees every request.
 *       Runners hosted together read in their host's group instead ({@link RunnerHost#groupId}).
 *   <li>{@code runner_id} (host name, pid and a random suffix): names this instance in its scores.
 *   <li>{@code fault_delay_ms} (0): fault injection for tests and benchmarks; each batch waits this long
 *       before scoring, as a slow model would, on a thread of this model's own so that the other models of its
 *       host are not held back. Off unless set here.
 *   <li>{@code fault_delay_random_ms} (0): fault injection; each batch also waits an exponentially distributed
 *       time with this mean, so the slowness has a tail like a real overloaded model's. Off unless set here.
 *   <li>{@code engine} ({@code onnxruntime}): {@code onnxruntime} scores an ONNX file with ONNX Runtime
 *       directly; {@code djl} loads the model through DJL, with the PyTorch engine for a TorchScript file
 *       ({@code .pt}) or DJL's ONNX Runtime engine for an {@code .onnx} file.
 *   <li>{@code device} ({@code auto}): where inference runs. {@code cpu}; {@code cuda} or {@code cuda:N} (GPU N,
 *       default 0), which fails at start when no usable GPU is found; {@code auto}, which tries GPU 0 and
 *       falls back to the CPU with a warning. The device really used is reported in every score.
 *   <li>{@code inputs} and {@code outputs} (taken from the model when it names them): the tensors in order,
 *       each {@code {name, datatype, shape}}; needed for TorchScript models, which carry no tensor names.
 * </ul>
 */
public record RunnerConfig(
    @JsonProperty(value = "problem", required = true) String problem,
    @JsonProperty(value = "model_id", required = true) String modelId,
    @JsonProperty(value = "model_version", required = true) String modelVersion,
    @JsonProperty("role") Role role,
    @JsonProperty(value = "model", required = true) Path model,
    @JsonProperty("batch_size") Integer batchSize,
    @JsonProperty("intra_op_threads") Integer intraOpThreads,
    @JsonProperty("inter_op_threads") Integer interOpThreads,
    @JsonProperty("group_id") String groupId,
    @JsonProperty("runner_id") String runnerId,
    @JsonProperty("fault_delay_ms") Integer faultDelayMs,
    @JsonProperty("fault_delay_random_ms") Integer faultDelayRandomMs,
    @JsonProperty("engine") String engine,
    @JsonProperty("device") String device,
    @JsonProperty("inputs") List<TensorSpec> inputs,
    @JsonProperty("outputs") List<TensorSpec> outputs) {

  /** The engines a runner can score with. */
  public static final List<String> ENGINES = List.of("onnxruntime", "djl");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

  public RunnerConfig {
    role = role == null ? Role.SERVING : role;
    batchSize = batchSize == null ? 64 : batchSize;
    intraOpThreads = intraOpThreads == null ? 1 : intraOpThreads;
    interOpThreads = interOpThreads == null ? 1 : interOpThreads;
    groupId = groupId == null ? "rdv." + problem + ".runner." + modelId + "@" + modelVersion : groupId;
    runnerId = runnerId == null ? defaultRunnerId(modelId) : runnerId;
    faultDelayMs = faultDelayMs == null ? 0 : faultDelayMs;
    faultDelayRandomMs = faultDelayRandomMs == null ? 0 : faultDelayRandomMs;
    engine = engine == null ? "onnxruntime" : engine.toLowerCase(Locale.ROOT);
    device = device == null ? "auto" : device.toLowerCase(Locale.ROOT);
    inputs = inputs == null ? List.of() : List.copyOf(inputs);
    outputs = outputs == null ? List.of() : List.copyOf(outputs);
    if (!ENGINES.contains(engine)) {
      throw new IllegalArgumentException("engine must be one of " + ENGINES + ", not " + engine);
    }
    DeviceChoice.parse(device); // fails on a bad value
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch_size must be at least 1, not " + batchSize);
    }
    if (intraOpThreads < 1 || interOpThreads < 1) {
      throw new IllegalArgumentException("intra_op_threads and inter_op_threads must be at least 1");
    }
    if (faultDelayMs < 0 || faultDelayRandomMs < 0) {
      throw new IllegalArgumentException("fault_delay_ms and fault_delay_random_ms must not be negative");
    }
  }

  /** A runner without random fault delay. */
  public RunnerConfig(String problem, String modelId, String modelVersion, Role role, Path model, Integer batchSize,
      Integer intraOpThreads, Integer interOpThreads, String groupId, String runnerId, Integer faultDelayMs) {
    this(problem, modelId, modelVersion, role, model, batchSize, intraOpThreads, interOpThreads, groupId, runnerId,
        faultDelayMs, 0);
  }

  /** An ONNX Runtime runner on the default device. */
  public RunnerConfig(String problem, String modelId, String modelVersion, Role role, Path model, Integer batchSize,
      Integer intraOpThreads, Integer interOpThreads, String groupId, String runnerId, Integer faultDelayMs,
      Integer faultDelayRandomMs) {
    this(problem, modelId, modelVersion, role, model, batchSize, intraOpThreads, interOpThreads, groupId, runnerId,
        faultDelayMs, faultDelayRandomMs, null, null, null, null);
  }

  /** The same runner on another device ({@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}). */
  public RunnerConfig withDevice(String newDevice) {
    return new RunnerConfig(problem, modelId, modelVersion, role, model, batchSize, intraOpThreads,
        interOpThreads, groupId, runnerId, faultDelayMs, faultDelayRandomMs, engine, newDevice, inputs, outputs);
  }

  /** The same runner with another engine ({@code onnxruntime} or {@code djl}). */
  public RunnerConfig withEngine(String newEngine) {
    return new RunnerConfig(problem, modelId, modelVersion, role, model, batchSize, intraOpThreads,
        interOpThreads, groupId, runnerId, faultDelayMs, faultDelayRandomMs, newEngine, device, inputs, outputs);
  }

  /** The same runner scoring in batches of at most this many requests. */
  public RunnerConfig withBatchSize(int newBatchSize) {
    return new RunnerConfig(problem, modelId, modelVersion, role, model, newBatchSize, intraOpThreads,
        interOpThreads, groupId, runnerId, faultDelayMs, faultDelayRandomMs, engine, device, inputs, outputs);
  }

  /** The same runner reaching its Kafka cluster under another consumer group and runner id. */
  public RunnerConfig withIds(String newGroupId, String newRunnerId) {
    return new RunnerConfig(problem, modelId, modelVersion, role, model, batchSize, intraOpThreads,
        interOpThreads, newGroupId, newRunnerId, faultDelayMs, faultDelayRandomMs, engine, device, inputs, outputs);
  }

  /** Reads every {@code *.yaml} configuration under the directories, in file name order. */
  public static List<RunnerConfig> loadAll(List<Path> dirs) {
    List<RunnerConfig> out = new ArrayList<>();
    for (Path dir : dirs) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
          out.add(load(f));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read runner configurations from " + dir, e);
      }
    }
    return out;
  }

  /** Reads a configuration file; the model path is resolved against the file's directory. */
  public static RunnerConfig load(Path file) {
    try {
      RunnerConfig c = YAML.readValue(file.toFile(), RunnerConfig.class);
      Path dir = file.toAbsolutePath().getParent();
      return c.withModel(dir.resolve(c.model()).normalize());
    } catch (IOException e) {
      throw new IllegalArgumentException("runner configuration " + file + ": " + e.getMessage(), e);
    }
  }

  public RunnerConfig withModel(Path path) {
    return new RunnerConfig(problem, modelId, modelVersion, role, path, batchSize, intraOpThreads,
        interOpThreads, groupId, runnerId, faultDelayMs, faultDelayRandomMs, engine, device, inputs, outputs);
  }

  public RunnerConfig withFaultDelayMs(int delayMs) {
    return new RunnerConfig(problem, modelId, modelVersion, role, model, batchSize, intraOpThreads,
        interOpThreads, groupId, runnerId, delayMs, faultDelayRandomMs, engine, device, inputs, outputs);
  }

  /** The same runner slowed by a fixed delay plus an exponentially distributed one with the given mean. */
  public RunnerConfig withFaultDelay(int fixedMs, int randomMeanMs) {
    return new RunnerConfig(problem, modelId, modelVersion, role, model, batchSize, intraOpThreads,
        interOpThreads, groupId, runnerId, fixedMs, randomMeanMs, engine, device, inputs, outputs);
  }

  /** The same model under another id (and so its own consumer group), for benchmarks with many models. */
  public RunnerConfig withModelId(String newModelId) {
    return new RunnerConfig(problem, newModelId, modelVersion, role, model, batchSize, intraOpThreads,
        interOpThreads, null, null, faultDelayMs, faultDelayRandomMs, engine, device, inputs, outputs);
  }

  public RunnerConfig withProblem(String newProblem) {
    return new RunnerConfig(newProblem, modelId, modelVersion, role, model, batchSize, intraOpThreads,
        interOpThreads, null, runnerId, faultDelayMs, faultDelayRandomMs, engine, device, inputs, outputs);
  }

  private static String defaultRunnerId(String modelId) {
    String jvm = ManagementFactory.getRuntimeMXBean().getName(); // pid@host
    return modelId + "@" + jvm + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 16));
  }
}
