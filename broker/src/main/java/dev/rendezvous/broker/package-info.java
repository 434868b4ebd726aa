/**
 * The embedded Kafka broker (KRaft) of the all-in-one default, the {@code broker} command and the tests: a single
 * node, or one node of a cluster on this machine; in a module of its own, so that only what starts a broker
 * carries the Kafka broker's classes.
 */
package dev.rendezvous.broker;
