/**
 * The HTTP proxy: speaks the Open Inference Protocol (KServe v2 REST), validates and stamps each request,
 * writes it to the problem's input topic and answers with the rendezvous result, or with the schedule's
 * default when no result comes by the deadline.
 */
package dev.rendezvous.proxy;
