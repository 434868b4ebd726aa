/**
 * Measurement: the open-loop HTTP load generator and its report, the suite that compares the full system with
 * the bare Kafka relay and a direct ONNX server, and the micro-benchmarks of inference, batch sizes and codecs.
 */
package dev.rendezvous.bench;
