package dev.rendezvous.schedule;

import dev.rendezvous.common.Arrival;
import dev.rendezvous.common.Score;
import java.util.List;

/**
 * What the schedule decided for one request: a score to return, or the default.
 *
 * @param chosen the accepted score, or null when the default is returned
 * @param tier the 0-based index of the tier that accepted it, or null for the default
 * @param reason {@link #ACCEPTED} or {@link #DEADLINE}
 * @param elapsedMs milliseconds from the proxy's receipt of the request to the decision
 * @param arrivals every score seen by the time of the decision, errors included, in arrival order
 */
public record Decision(Score chosen, Integer tier, String reason, double elapsedMs, List<Arrival> arrivals) {

  /** A tier accepted the chosen score. */
  public static final String ACCEPTED = "accepted";
  /** Nothing acceptable arrived before the cutoff, so the default is returned. */
  public static final String DEADLINE = "deadline";

  public Decision {
    arrivals = List.copyOf(arrivals);
  }

  /** True when the schedule's default is to be returned instead of a model's score. */
  public boolean isDefault() {
    return chosen == null;
  }
}
