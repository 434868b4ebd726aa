package dev.rendezvous.bench;

/**
 * One open-loop measurement of one system at one rate.
 *
 * @param system the system's short name
 * @param rate the target rate, requests per second
 * @param repetition which repetition, from 1
 * @param outcome what the load generator saw
 * @param broker the broker's Fetch and Produce requests during the measurement, or null when the broker is not in
 *     this JVM
 * @param lateness the server's own count of answers written after their deadline during the measurement, or null
 *     when the system measured does not count them (the relays)
 */
public record Measurement(String system, double rate, int repetition, LoadGenerator.Outcome outcome,
    BrokerRequests.Count broker, ServerLateness.Count lateness) {

  public Measurement(String system, double rate, int repetition, LoadGenerator.Outcome outcome,
      BrokerRequests.Count broker) {
    this(system, rate, repetition, outcome, broker, null);
  }

  /** Broker requests (Fetch + Produce) per HTTP request sent, NaN when not counted. */
  public double brokerPerRequest() {
    return broker == null || outcome.sent() == 0 ? Double.NaN : (double) broker.total() / outcome.sent();
  }
}
