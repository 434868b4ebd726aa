package dev.rendezvous.process;

import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.runner.RunnerHost;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
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
  @Mixin MetricsOptions metrics;
  @Mixin RunnerOptions runner;

  @Parameters(arity = "0..*", paramLabel = "CONFIG", defaultValue = "${env:RDV_RUNNER_CONFIG}",
      description = "Runner configuration files (YAML). Unset: required.")
  List<Path> configs = new ArrayList<>();

  @Option(names = "--model", defaultValue = "${env:RDV_MODEL}",
      description = "Model file to use instead of the configuration's 'model', e.g. one mounted into a "
          + "container. Unset: the file's.")
  Path model;

  @Override
  public Integer call() throws Exception {
    if (configs == null || configs.isEmpty()) {
      throw new IllegalArgumentException("no runner configuration: give a file or set RDV_RUNNER_CONFIG");
    }
    List<RunnerConfig> loaded = new ArrayList<>();
    for (Path file : configs) {
      RunnerConfig config = runner.apply(RunnerConfig.load(file));
      loaded.add(model == null ? config : config.withModel(model.toAbsolutePath()));
    }
    return Processes.run(kafka, metrics, a -> "runner " + a.runners(loaded).stream().map(RunnerHost::toString)
        .collect(Collectors.joining(", ")));
  }
}
