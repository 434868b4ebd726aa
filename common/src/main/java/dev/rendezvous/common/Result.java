package dev.rendezvous.common;

import java.util.List;

/**
 * The rendezvous decision for one request, written to the results topic at the request's return address.
 *
 * @param requestId the request decided
 * @param clientId the client's own id, echoed
 * @param problem the served problem
 * @param answeredBy the model whose score was chosen, or {@code default}
 * @param modelVersion the chosen model's version, or null for the default
 * @param tier index of the tier that accepted the score, or null for the default
 * @param isDefault true when the schedule's default was returned
 * @param reason why: {@code accepted}, {@code deadline} (no acceptable score in time) or {@code overload}
 * @param elapsedMs milliseconds from the proxy's receipt to the decision
 * @param outputs the chosen outputs
 * @param scheduleVersion version of the schedule that decided
 * @param arrivals every score that had arrived by the decision, in arrival order
 * @param decidedAtUs when the decision was made, epoch microseconds
 */
public record Result(
    String requestId,
    String clientId,
    String problem,
    String answeredBy,
    String modelVersion,
    Integer tier,
    boolean isDefault,
    String reason,
    double elapsedMs,
    List<Tensor> outputs,
    long scheduleVersion,
    List<Arrival> arrivals,
    long decidedAtUs) {

  public static final String DEFAULT = "default";
}
