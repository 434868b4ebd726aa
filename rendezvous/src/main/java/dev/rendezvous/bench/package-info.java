/** Measurement: an open-loop HTTP load generator and its report. */
package dev.rendezvous.bench;
