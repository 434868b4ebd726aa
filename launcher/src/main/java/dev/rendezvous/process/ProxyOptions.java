package dev.rendezvous.process;

import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.auth.AdminToken;
import dev.rendezvous.auth.ApiKeys;
import dev.rendezvous.auth.Tls;
import dev.rendezvous.proxy.ProxyConfig;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/** The HTTP proxy's options: where it listens, what it stamps and reads, and the credentials it checks. */
public final class ProxyOptions {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyOptions.class);

  @Option(names = "--host", defaultValue = "${env:RDV_PROXY_HOST:-127.0.0.1}",
      description = "Address the proxy listens on; 0.0.0.0 in a container.")
  String host;

  @Option(names = "--port", defaultValue = "${env:RDV_PROXY_PORT:-8080}",
      description = "HTTP port of the proxy; 0 picks a free one.")
  int port;

  @Option(names = "--proxy-id", defaultValue = "${env:RDV_PROXY_ID}",
      description = "Prefix of the request ids this proxy stamps (followed by 96 random bits; no ':'). "
          + "Unset: random.")
  String proxyId;

  @Option(names = "--results-partition", defaultValue = "${env:RDV_RESULTS_PARTITION:-0}",
      description = "The first of the partitions of each results topic that only this proxy reads, one per "
          + "instance (instance i reads this + i); every proxy replica needs partitions of its own. 'ordinal' "
          + "takes the number n at the end of the host name, as a Kubernetes StatefulSet names its pods, and reads "
          + "from n x --proxy-instances on.")
  String resultsPartition;

  @Option(names = "--proxy-instances", defaultValue = "${env:RDV_PROXY_INSTANCES:-0}",
      description = "Instances of the proxy serving the port, each on an event loop of its own with a results "
          + "partition of its own (the results topics get at least that many); 0 is one per available processor for "
          + "the proxy alone, one per two processors for up, which shares them with the whole pipeline.")
  int instances;

  @Option(names = "--grpc-port", defaultValue = "${env:RDV_GRPC_PORT:-8081}",
      description = "Port of the Open Inference Protocol over gRPC, served by every instance; 0 picks a free one, "
          + "-1 serves none.")
  int grpcPort;

  @Option(names = "--body-limit-bytes", defaultValue = "${env:RDV_BODY_LIMIT_BYTES:-1048576}",
      description = "Largest request body accepted; larger ones get HTTP 413.")
  long bodyLimitBytes;

  @Option(names = "--admin-token-file", defaultValue = "${env:RDV_ADMIN_TOKEN_FILE}",
      description = "When RDV_ADMIN_TOKEN is unset: the file the admin token is read from, or written to "
          + "(mode 600) when missing; give every replica the same token. Unset: data/admin-token "
          + "(`up`: <--data>/admin-token).")
  Path adminTokenFile;

  @Option(names = "--api-keys-file", defaultValue = "${env:RDV_API_KEYS_FILE}",
      description = "Scoring keys, one per line ('#' starts a comment); when given, inference and metadata need "
          + "'Authorization: Bearer <key>'. Unset: scoring open.")
  Path apiKeysFile;

  @Option(names = "--tls-cert-file", defaultValue = "${env:RDV_TLS_CERT_FILE}",
      description = "PEM certificate (chain) of the proxy; with --tls-key-file the proxy serves HTTPS. "
          + "Unset: plain HTTP.")
  Path tlsCertFile;

  @Option(names = "--tls-key-file", defaultValue = "${env:RDV_TLS_KEY_FILE}",
      description = "PEM private key (PKCS#8, or PKCS#1 for RSA) of --tls-cert-file.")
  Path tlsKeyFile;

  public String host() {
    return host;
  }

  /** The configuration of a proxy in a process of its own against this cluster. */
  public ProxyConfig toConfig(String bootstrapServers) {
    return toConfig(bootstrapServers, ProxyConfig.defaultInstances());
  }

  /** The proxy's configuration against this cluster, with {@code defaultInstances} unless the options say. */
  public ProxyConfig toConfig(String bootstrapServers, int defaultInstances) {
    int n = instances == 0 ? defaultInstances : instances;
    return new ProxyConfig(host, port, bodyLimitBytes,
        proxyId == null || proxyId.isBlank() ? ProxyConfig.randomId() : proxyId,
        firstResultsPartition(resultsPartition, System.getenv().getOrDefault("HOSTNAME", ""), n), n,
        bootstrapServers, grpcPort);
  }

  /**
   * The credentials the proxy checks: the admin token of {@value AdminToken#ENV}, else the one in the token file
   * (created when missing; {@code defaultTokenFile} unless one is given), the scoring keys and TLS. A token file
   * that can be neither read nor written (a read-only container without {@value AdminToken#ENV}) leaves the
   * proxy serving but refusing every write until a token is given.
   */
  public AccessControl access(Path defaultTokenFile) {
    ApiKeys keys = apiKeysFile == null ? ApiKeys.open() : ApiKeys.load(apiKeysFile);
    if ((tlsCertFile == null) != (tlsKeyFile == null)) {
      throw new IllegalArgumentException("TLS needs both --tls-cert-file and --tls-key-file (RDV_TLS_CERT_FILE, "
          + "RDV_TLS_KEY_FILE); only " + (tlsCertFile != null ? "the certificate" : "the key") + " is given");
    }
    Tls tls = tlsCertFile == null ? null : new Tls(tlsCertFile, tlsKeyFile);
    Path tokenFile = adminTokenFile != null ? adminTokenFile : defaultTokenFile;
    try {
      return new AccessControl(AdminToken.resolve(System.getenv(), tokenFile), keys, tls);
    } catch (UncheckedIOException e) {
      LOG.warn("{}; schedule changes and outcomes are refused until {} or a writable --admin-token-file is given",
          e.getMessage(), AdminToken.ENV);
      return new AccessControl(AccessControl.locked().admin(), keys, tls);
    }
  }

  /**
   * The first results partition of a proxy of {@code instances} instances: the number set, or with {@code ordinal}
   * the replica's first ({@link ProxyConfig#firstResultsPartitionOfReplica}).
   */
  static int firstResultsPartition(String setting, String hostName, int instances) {
    int n = resultsPartition(setting, hostName);
    return setting.equals("ordinal") ? ProxyConfig.firstResultsPartitionOfReplica(n, instances) : n;
  }

  /** A partition number, or with {@code ordinal} the trailing number of the host name ({@code proxy-2} is 2). */
  static int resultsPartition(String setting, String hostName) {
    if (!setting.equals("ordinal")) {
      return Integer.parseInt(setting);
    }
    Matcher m = Pattern.compile("-(\\d+)$").matcher(hostName);
    if (!m.find()) {
      throw new IllegalArgumentException("--results-partition ordinal: host name '" + hostName
          + "' does not end in -<number>");
    }
    return Integer.parseInt(m.group(1));
  }
}
