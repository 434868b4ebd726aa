/**
 * The rendezvous server: joins each problem's requests with the scores that models write, and publishes one
 * result per request as the schedule in force decides.
 */
package dev.rendezvous.rendezvous;
