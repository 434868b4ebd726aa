/** The all-in-one launcher: broker, rendezvous, runners, canary and proxy in one JVM. */
package dev.rendezvous.embedded;
