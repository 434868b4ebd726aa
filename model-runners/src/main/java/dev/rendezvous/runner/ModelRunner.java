package dev.rendezvous.runner;

import dev.rendezvous.common.Clock;
import dev.rendezvous.runtime.Component;
import dev.rendezvous.runtime.Health;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Scores every request of one problem with one model: a {@link RunnerHost} of that model alone, with the
 * consumer group, loop name and client id a runner of its own has always had ({@code group_id}, {@code
 * runner-<problem>-<model>}, {@code runner_id}). See {@link RunnerHost} for delivery and {@link HostedModel} for
 * what is scored and counted.
 */
public final class ModelRunner implements Component {

  private final RunnerHost host;
  private final HostedModel model;

  /** A runner whose metrics are kept but not exported; for tests and tools. */
  public ModelRunner(RunnerConfig config, String bootstrapServers, Clock clock) throws Exception {
    this(config, bootstrapServers, clock, new SimpleMeterRegistry());
  }

  /** A runner that registers its meters (see docs/metrics.md, {@code rdv_runner_*}) with {@code metrics}. */
  public ModelRunner(RunnerConfig config, String bootstrapServers, Clock clock, MeterRegistry metrics)
      throws Exception {
    this.host = new RunnerHost(List.of(config), bootstrapServers, clock, metrics);
    this.model = host.models().get(0);
  }

  /** Starts polling; {@link #assigned()} completes once this runner owns input partitions. */
  @Override
  public ModelRunner start() {
    host.start();
    return this;
  }

  /** Completes once the model is warm and this runner owns input partitions, their positions resolved. */
  public CompletableFuture<Void> assigned() {
    return host.assigned();
  }

  @Override
  public String name() {
    return host.name();
  }

  /** The health of its consumer loop: ready once assigned, not ready while a batch is retried or after a failure. */
  @Override
  public Health health() {
    return host.health();
  }

  public RunnerConfig config() {
    return model.config();
  }

  public long scored() {
    return model.scored();
  }

  public long skippedExpired() {
    return model.skippedExpired();
  }

  public long errors() {
    return model.errors();
  }

  /** Where this runner's model really runs ({@code cpu} or {@code cuda:N}), as reported in its scores. */
  public String device() {
    return model.device();
  }

  @Override
  public void close() throws Exception {
    host.close();
  }

  /** A short description for logs. */
  @Override
  public String toString() {
    return model.toString();
  }
}
