package dev.rendezvous.rendezvous;

/**
 * Settings of one problem's rendezvous.
 *
 * @param problem the served problem
 * @param bootstrapServers the Kafka cluster
 * @param maxPending most undecided requests held; beyond it a new request gets the default at once
 *     (reason {@code overload}) so memory stays bounded. Default 100,000.
 * @param orphanTtlMs how long a score whose request has not been read yet is kept waiting for it (input
 *     and scores are separate topics, so a score can overtake its request). Default 10,000.
 * @param decidedTtlMs how long decided request ids are remembered so that later scores are counted as late
 *     rather than as orphans. Default 10,000.
 */
public record RendezvousConfig(
    String problem, String bootstrapServers, int maxPending, long orphanTtlMs, long decidedTtlMs) {

  public static RendezvousConfig defaults(String problem, String bootstrapServers) {
    return new RendezvousConfig(problem, bootstrapServers, 100_000, 10_000, 10_000);
  }
}
