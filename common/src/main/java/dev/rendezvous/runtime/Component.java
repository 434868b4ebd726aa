package dev.rendezvous.runtime;

/**
 * A part of the server that runs in the background of a process: a model runner, the decoy, a score
 * monitor, the schedule follower. Its constructor takes its dependencies, the {@code MeterRegistry} its
 * meters go to among them, and does no I/O that needs the component to be running; {@link #start} begins
 * the work and returns at once; {@link #health} says at any time whether it is doing that work; {@link
 * #close} stops it and releases what it holds, within a bound, and may be called more than once.
 *
 * <p>A component that fails must not just stop: its health turns not-ready with the reason, the failure is
 * counted in a meter and logged. Launchers report a process ready only when all its components are.
 */
public interface Component extends AutoCloseable {

  /** A short name for logs and the {@code loop}/{@code component} labels, unique within a process. */
  String name();

  /** Begins the component's work; returns at once. */
  Component start();

  /** Whether the component is doing its work now; safe to call from any thread. */
  Health health();

  /** Stops the work and releases resources; returns within a bound even if the work is stuck. */
  @Override
  void close() throws Exception;
}
