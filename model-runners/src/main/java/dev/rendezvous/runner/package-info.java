/**
 * The model runner: a {@link dev.rendezvous.runner.RunnerHost} reads a problem's input topic once for every
 * model it hosts (one consumer, each request decoded once), hands each poll's requests to each {@link
 * dev.rendezvous.runner.HostedModel}, which scores them in batches with a {@link
 * dev.rendezvous.runner.ScoringModel} (ONNX Runtime directly, on a GPU where one is usable, or a framework
 * through DJL), and writes one score per request and model to the scores topic through one producer. A {@link
 * dev.rendezvous.runner.ModelRunner} is a host of one model, a runner on its own.
 */
package dev.rendezvous.runner;
