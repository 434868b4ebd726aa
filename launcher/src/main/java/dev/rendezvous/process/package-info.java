/**
 * How components are launched and configured. One options class per component ({@code KafkaOptions},
 * {@code ProxyOptions}, {@code AdmissionOptions}, {@code RendezvousOptions}, {@code RunnerOptions},
 * {@code DecoyOptions}, {@code MonitorOptions}...), each option falling back to an {@code RDV_*} variable and
 * building the component's configuration record; {@link dev.rendezvous.process.Assembly}, which starts components
 * from those records; and the {@code broker}, {@code proxy}, {@code rendezvous}, {@code runner}, {@code decoy} and
 * {@code monitor} subcommands of {@code bin/rendezvous}, each one component in its own process (docs/processes.md,
 * docs/configuration.md). Every process prints one {@code READY ...} line on standard output once it serves, and
 * stops cleanly on SIGTERM.
 */
package dev.rendezvous.process;
