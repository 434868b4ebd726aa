package dev.rendezvous.common;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * What a scoring component is for. Only serving models are matched by a schedule's {@code "*"}; a canary
 * answers only when a schedule names it explicitly.
 */
public enum Role {
  SERVING,
  CANARY;

  /** The lower-case name used in files and on the wire. */
  @JsonValue
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Parses the configuration name ({@code serving}, {@code canary}), ignoring case. */
  @JsonCreator
  public static Role parse(String name) {
    for (Role r : values()) {
      if (r.name().equalsIgnoreCase(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException("role must be serving or canary, not '" + name + "'");
  }
}
