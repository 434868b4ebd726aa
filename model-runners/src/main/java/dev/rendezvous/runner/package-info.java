/**
 * The model runner: reads a problem's input topic in a consumer group of its own, scores each poll's
 * requests in batches with ONNX Runtime, and writes one score per request to the scores topic.
 */
package dev.rendezvous.runner;
