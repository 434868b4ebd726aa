package dev.rendezvous.common;

/**
 * Topic names for one served problem. Each problem has its own isolated set, {@code <prefix>.<problem>.input},
 * {@code .scores} and {@code .results}; input and scores must have the same partition count so that one
 * rendezvous instance owns the same partitions of both.
 */
public record Topics(String prefix, String problem) {

  public static final String DEFAULT_PREFIX = "rdv";

  public static Topics of(String problem) {
    return new Topics(DEFAULT_PREFIX, problem);
  }

  public String input() {
    return prefix + "." + problem + ".input";
  }

  public String scores() {
    return prefix + "." + problem + ".scores";
  }

  public String results() {
    return prefix + "." + problem + ".results";
  }

  /** Ground truth reported after the fact, keyed by request id. */
  public String outcomes() {
    return prefix + "." + problem + ".outcomes";
  }
}
