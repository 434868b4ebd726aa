/**
 * The all-in-one launcher: broker, rendezvous, runners (canary included), decoy, score monitor, schedule
 * watcher and proxy in one JVM, warmed up before it reports ready.
 */
package dev.rendezvous.embedded;
