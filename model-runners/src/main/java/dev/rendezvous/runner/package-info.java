/**
 * The model runner: reads a problem's input topic in a consumer group of its own, scores each poll's
 * requests in batches with a {@link dev.rendezvous.runner.ScoringModel} (ONNX Runtime directly, on a GPU
 * where one is usable, or a framework through DJL), and writes one score per request to the scores topic.
 */
package dev.rendezvous.runner;
