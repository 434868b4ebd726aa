package dev.rendezvous.process;

import dev.rendezvous.common.Clock;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.runner.RunnerHost;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * One or more model runners in one process, each from its YAML file. The runners of one problem share one
 * {@link RunnerHost} (one input consumer, each request decoded once, one score producer); a process given runners
 * of several problems has one host per problem. In a container there is normally one runner per process, so that
 * Kubernetes schedules, scales and restarts each model on its own: a host of one model.
 */
@Command(name = "runner", mixinStandardHelpOptions = true,
    description = "Run model runners, one per configuration file, against a Kafka cluster; the runners of one "
        + "problem share one input consumer and one score producer.")
public final class RunnerCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;

  @Parameters(arity = "0..*", paramLabel = "CONFIG",
      description = "Runner configuration files (YAML); when none is given, the file named by env RDV_RUNNER_CONFIG.")
  List<Path> configs = new ArrayList<>();

  @Option(names = "--model", defaultValue = "${env:RDV_MODEL}",
      description = "Model file to use instead of the configuration's 'model', e.g. one mounted into a "
          + "container (env RDV_MODEL).")
  Path model;

  @Option(names = "--device", defaultValue = "${env:RDV_DEVICE}",
      description = "auto, cpu, cuda or cuda:N instead of the configuration's 'device' (env RDV_DEVICE).")
  String device;

  @Option(names = "--batch-size", defaultValue = "${env:RDV_BATCH_SIZE}",
      description = "Instead of the configuration's 'batch_size' (env RDV_BATCH_SIZE).")
  Integer batchSize;

  @Override
  public Integer call() throws Exception {
    if (configs.isEmpty()) {
      String fromEnv = System.getenv("RDV_RUNNER_CONFIG");
      if (fromEnv == null || fromEnv.isBlank()) {
        throw new IllegalArgumentException("no runner configuration: give a file or set RDV_RUNNER_CONFIG");
      }
      configs = List.of(Path.of(fromEnv));
    }
    List<RunnerHost> hosts = new ArrayList<>();
    var metrics = dev.rendezvous.metrics.Metrics.newRegistry();
    try {
      Map<String, List<RunnerConfig>> byProblem = new LinkedHashMap<>();
      for (Path file : configs) {
        RunnerConfig config = RunnerConfig.load(file);
        if (model != null) {
          config = config.withModel(model.toAbsolutePath());
        }
        if (device != null && !device.isBlank()) {
          config = config.withDevice(device);
        }
        if (batchSize != null) {
          config = config.withBatchSize(batchSize);
        }
        byProblem.computeIfAbsent(config.problem(), p -> new ArrayList<>()).add(config);
      }
      for (List<RunnerConfig> problemConfigs : byProblem.values()) {
        kafka.ensureTopics(problemConfigs.get(0).problem());
        hosts.add(new RunnerHost(problemConfigs, kafka.bootstrapServers(), Clock.SYSTEM, metrics).start());
      }
      for (RunnerHost host : hosts) {
        host.assigned().get(120, TimeUnit.SECONDS);
        Processes.ready("runner " + host);
      }
    } catch (Exception e) {
      for (RunnerHost h : hosts) {
        h.close();
      }
      throw e;
    }
    List<AutoCloseable> resources = new ArrayList<>();
    resources.add(() -> dev.rendezvous.metrics.Metrics.close(metrics));
    resources.add(Processes.metrics(metrics, kafka.metricsHost, kafka.metricsPort));
    resources.addAll(hosts);
    return Processes.runUntilStopped(resources.toArray(AutoCloseable[]::new));
  }
}
