/**
 * Kafka plumbing shared by every component: the request path's client settings in one place
 * ({@link dev.rendezvous.kafka.KafkaSettings}), topic creation
 * ({@link dev.rendezvous.kafka.KafkaTopics}), and the embedded single-node KRaft broker of the all-in-one
 * default and the tests ({@link dev.rendezvous.broker.EmbeddedKafka}).
 */
package dev.rendezvous.kafka;
