/**
 * The HTTP proxy: speaks the Open Inference Protocol (KServe v2 REST), validates and stamps each request,
 * writes it to the problem's input topic and answers with the rendezvous result, or with the schedule's
 * default when no result comes by the deadline. {@code Proxy} runs one {@code ProxyVerticle} per event loop on
 * one port, each with a results partition of its own ({@code ProxyConfig}). Under load, {@code Admission} refuses what cannot be answered
 * in time (503, {@code Retry-After}) and {@code AdminExecutor} keeps scrapes, the status page and schedule
 * changes off the request path. Readiness: {@code KafkaReachability} (the proxy reaches Kafka) and
 * {@code BackendReadiness} (per problem, a rendezvous owns its partitions and a model its schedule accepts
 * scores).
 */
package dev.rendezvous.proxy;
