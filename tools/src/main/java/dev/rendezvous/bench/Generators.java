package dev.rendezvous.bench;

/**
 * Where the suite's load comes from: the open-loop {@link LoadGenerator} and the closed-loop
 * {@link FloodGenerator}, run either in this JVM or in a JVM of their own ({@link GeneratorProcess}).
 *
 * <p>The suite starts every system it measures in its own JVM. A generator in that JVM shares its collector and
 * its two cores' scheduling with the system: each young collection, caused by whichever system allocates,
 * stops the clock-keeping client too, and its requests are sent and timed late. A client in a process of its
 * own is how users and {@code hey} meet the system, and is the default.
 */
public interface Generators extends AutoCloseable {

  LoadGenerator.Outcome load(LoadGenerator.Settings s) throws Exception;

  FloodGenerator.Outcome flood(FloodGenerator.Settings s) throws Exception;

  /** Whether the load comes from a JVM of its own. */
  boolean separateProcess();

  @Override
  default void close() throws Exception {}

  /** Generators run in this JVM. */
  static Generators inProcess() {
    return new Generators() {
      @Override
      public LoadGenerator.Outcome load(LoadGenerator.Settings s) throws Exception {
        return LoadGenerator.run(s);
      }

      @Override
      public FloodGenerator.Outcome flood(FloodGenerator.Settings s) throws Exception {
        return FloodGenerator.run(s);
      }

      @Override
      public boolean separateProcess() {
        return false;
      }
    };
  }
}
