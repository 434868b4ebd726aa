/**
 * The small runtime every background component is built on. A {@link dev.rendezvous.runtime.Component} has a
 * start, a stop and a {@link dev.rendezvous.runtime.Health}, and registers its meters with the registry it is
 * given. Every component that reads Kafka with the plain client (runner, decoy, score monitor, schedule
 * follower, score observer) does so through one {@link dev.rendezvous.runtime.ConsumerLoop}: one place for
 * subscribing or assigning, polling, committing ({@link dev.rendezvous.runtime.CommitPolicy}), retrying a
 * failing batch with backoff ({@link dev.rendezvous.runtime.ErrorPolicy}), skipping undecodable records, and
 * stopping cleanly; and one set of {@code rdv_consumer_*} meters with a {@code loop} label.
 */
package dev.rendezvous.runtime;
