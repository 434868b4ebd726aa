package dev.rendezvous.process;

import dev.rendezvous.runner.RunnerConfig;
import picocli.CommandLine.Option;

/**
 * Settings that override, for every runner of a process, what the runners' configuration files say; a runner's
 * other settings are the fields of its file ({@link RunnerConfig}).
 */
public final class RunnerOptions {

  @Option(names = "--device", defaultValue = "${env:RDV_DEVICE}",
      description = "auto, cpu, cuda or cuda:N for every runner of this process, instead of each file's 'device'. "
          + "Unset: each file's (auto when the file says nothing).")
  String device;

  @Option(names = "--batch-size", defaultValue = "${env:RDV_BATCH_SIZE}",
      description = "Most requests scored in one call by every runner of this process, instead of each file's "
          + "'batch_size'. Unset: each file's (64 when the file says nothing).")
  Integer batchSize;

  /** The configuration with this process's overrides. */
  public RunnerConfig apply(RunnerConfig config) {
    RunnerConfig c = config;
    if (device != null && !device.isBlank()) {
      c = c.withDevice(device);
    }
    if (batchSize != null) {
      c = c.withBatchSize(batchSize);
    }
    return c;
  }
}
