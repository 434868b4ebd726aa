/**
 * The decoy: a recorder that reads a problem's input, scores and outcomes topics in a consumer group of its
 * own and archives every record, byte for byte, in append-only gzip JSON Lines segments; the reader that
 * de-duplicates them; the training-set export that joins inputs, scores and outcomes; and the offline
 * replay of archived inputs through a candidate model.
 */
package dev.rendezvous.decoy;
