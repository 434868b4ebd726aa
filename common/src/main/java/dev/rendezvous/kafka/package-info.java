/** Kafka plumbing shared by every component: the embedded single-node broker and topic creation. */
package dev.rendezvous.kafka;
