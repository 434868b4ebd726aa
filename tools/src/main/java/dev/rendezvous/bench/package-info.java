/**
 * Measurement: the open-loop HTTP load generator (coordinated-omission corrected, late sends reported) and the
 * closed-loop flood, the suite that compares the full system with its limits (a bare Kafka relay, a relay with the
 * full system's fan-out and no work, a direct ONNX server) over repeated, alternating runs after a warm-up that
 * waits for the JIT to be quiet, the report with medians and ranges, and the micro-benchmarks of inference, batch
 * sizes and codecs.
 */
package dev.rendezvous.bench;
