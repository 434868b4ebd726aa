/**
 * Rolling models in and out: the schedule log (a compacted Kafka topic per problem that every instance
 * follows), the watcher that turns an edited schedule file into a new version, history and rollback, the
 * status of every model seen scoring, and the what-if replay of a proposed schedule against recorded traffic.
 */
package dev.rendezvous.rollout;
