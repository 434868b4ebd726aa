/**
 * The messages that travel between components (request, score, result), their one JSON codec, topic
 * naming and the clock that everything time-dependent reads.
 */
package dev.rendezvous.common;
