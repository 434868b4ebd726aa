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
 * @param accept models in order of preference: a model id ({@code bc-mlp}, any version of it), a model id and
 *     version ({@code bc-mlp@3}, that version only), or {@link #ANY_SERVING} for any serving model
 */
public record Tier(long untilMs, List<String> accept) {

  /** The accept entry that matches any serving model, never a canary. */
  public static final String ANY_SERVING = "*";

  /** Separates a model id from a version in an accept entry: {@code bc-mlp@3}. */
  public static final char VERSION_SEPARATOR = '@';

  public Tier {
    Objects.requireNonNull(accept, "accept");
    accept = List.copyOf(accept);
  }

  /**
   * The position in {@link #accept} of the first entry that matches this model version, or -1 when none does.
   * A lower rank is preferred. An explicit id matches that model whatever its role, so a canary answers only
   * when named.
   */
  public int rank(String modelId, String modelVersion, Role role) {
    for (int i = 0; i < accept.size(); i++) {
      String entry = accept.get(i);
      if (names(entry, modelId, modelVersion) || (entry.equals(ANY_SERVING) && role == Role.SERVING)) {
        return i;
      }
    }
    return -1;
  }

  /** True when a score from this model version may be returned while this tier is active. */
  public boolean accepts(String modelId, String modelVersion, Role role) {
    return rank(modelId, modelVersion, role) >= 0;
  }

  /** Whether an accept entry names this model version: its id alone (any version), or {@code id@version}. */
  public static boolean names(String entry, String modelId, String modelVersion) {
    if (!entry.startsWith(modelId)) {
      return false;
    }
    if (entry.length() == modelId.length()) {
      return true;
    }
    return modelVersion != null && entry.length() == modelId.length() + 1 + modelVersion.length()
        && entry.charAt(modelId.length()) == VERSION_SEPARATOR && entry.endsWith(modelVersion);
  }

  /** The model id of an accept entry: the entry without its {@code @version}, if any. */
  public static String modelIdOf(String entry) {
    int at = entry.indexOf(VERSION_SEPARATOR);
    return at < 0 ? entry : entry.substring(0, at);
  }
}
