/**
 * The score monitor: per-model score distributions from the scores topic, each compared with its own past
 * (for the canary, a shift in the input) and with the canary on the same requests; exported as meters.
 */
package dev.rendezvous.canary;
