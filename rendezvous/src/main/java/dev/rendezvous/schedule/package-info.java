/**
 * Schedules: the per-problem YAML file that says which model's score to return as time passes, its strict
 * loader, and the deterministic per-request engine that applies it to score arrivals.
 */
package dev.rendezvous.schedule;
