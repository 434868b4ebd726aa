package dev.rendezvous.common;

/**
 * A score as the rendezvous saw it arrive, recorded in every result so a schedule can be replayed.
 *
 * @param modelId the model that scored
 * @param modelVersion its version
 * @param role its role
 * @param atMs milliseconds after the proxy received the request
 * @param error true when the runner reported an error instead of outputs
 */
public record Arrival(String modelId, String modelVersion, Role role, double atMs, boolean error) {}
