/**
 * Who may do what over HTTP: the admin credential that guards schedule changes, rollbacks and outcomes
 * ({@link dev.rendezvous.auth.AdminToken}), the optional scoring keys ({@link dev.rendezvous.auth.ApiKeys}),
 * and the router guard that checks them ({@link dev.rendezvous.auth.AccessControl}). Health endpoints and
 * metrics stay open so that probes and scrapers need no secret.
 */
package dev.rendezvous.auth;
