/**
 * Each component as its own process: the {@code broker}, {@code proxy}, {@code rendezvous}, {@code runner},
 * {@code decoy} and {@code monitor} subcommands of {@code bin/rendezvous}, each configured by its files (schedules, runner YAML) plus command-line
 * options that fall back to {@code RDV_*} environment variables (see docs/processes.md). Every process prints
 * one {@code READY ...} line on standard output once it serves, and stops cleanly on SIGTERM.
 */
package dev.rendezvous.process;
