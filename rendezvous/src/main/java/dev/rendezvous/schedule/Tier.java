package dev.rendezvous.schedule;

import dev.rendezvous.common.Role;
import java.util.List;
import java.util.Objects;

/**
 * One step of a schedule: until {@code untilMs} milliseconds after the proxy received a request, a score
 * is accepted only from the models in {@code accept}, in order of preference.
 *
 * @param untilMs the end of this tier, milliseconds after receipt (exclusive: at {@code untilMs} the next
 *     tier is active)
 * @param accept model ids in order of preference; {@link #ANY_SERVING} matches any serving model
 */
public record Tier(long untilMs, List<String> accept) {

  /** The accept entry that matches any serving model, never a canary. */
  public static final String ANY_SERVING = "*";

  public Tier {
    Objects.requireNonNull(accept, "accept");
    accept = List.copyOf(accept);
  }

  /**
   * The position in {@link #accept} of the first entry that matches this model, or -1 when none does. A
   * lower rank is preferred. An explicit id matches that model whatever its role, so a canary answers only
   * when named.
   */
  public int rank(String modelId, Role role) {
    for (int i = 0; i < accept.size(); i++) {
      String entry = accept.get(i);
      if (entry.equals(modelId) || (entry.equals(ANY_SERVING) && role == Role.SERVING)) {
        return i;
      }
    }
    return -1;
  }

  /** True when a score from this model may be returned while this tier is active. */
  public boolean accepts(String modelId, Role role) {
    return rank(modelId, role) >= 0;
  }
}
