package dev.rendezvous.runtime;

import java.util.Objects;

/**
 * Whether a component can do its work now, and if not, why, in words an operator can act on
 * ({@code "retrying batch of input-0@41..57 after 3 failures: disk full"}).
 *
 * @param ready true when the component is doing its work
 * @param reason why it is not ready; {@code "ready"} when it is
 */
public record Health(boolean ready, String reason) {

  private static final Health READY = new Health(true, "ready");

  public Health {
    Objects.requireNonNull(reason, "reason");
  }

  public static Health up() {
    return READY;
  }

  public static Health down(String reason) {
    return new Health(false, reason);
  }
}
