/**
 * The built-in status page at {@code /ui}: static files from {@code src/main/resources/ui} and the JSON
 * endpoint {@code /ui/api/status} they poll, for systems run without Grafana (the embedded default).
 */
package dev.rendezvous.ui;
