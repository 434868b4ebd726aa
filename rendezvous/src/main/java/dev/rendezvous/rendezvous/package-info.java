/**
 * The rendezvous server: joins each problem's requests with the scores that models write, and publishes one
 * result per request as the schedule in force decides. {@link dev.rendezvous.rendezvous.RendezvousTable} is the
 * clock-free, bounded state (pending requests, wake-ups, orphan scores, decided ids);
 * {@link dev.rendezvous.rendezvous.RendezvousVerticle} moves Kafka records in and results out and keeps its one
 * timer; {@link dev.rendezvous.rendezvous.RendezvousMetrics} holds its meters.
 */
package dev.rendezvous.rendezvous;
