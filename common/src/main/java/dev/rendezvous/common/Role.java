package dev.rendezvous.common;

/**
 * What a scoring component is for. Only serving models are matched by a schedule's {@code "*"}; a canary
 * answers only when a schedule names it explicitly.
 */
public enum Role {
  SERVING,
  CANARY;

  /** Parses the lower-case configuration name ({@code serving}, {@code canary}). */
  public static Role parse(String name) {
    for (Role r : values()) {
      if (r.name().equalsIgnoreCase(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException("role must be serving or canary, not '" + name + "'");
  }
}
