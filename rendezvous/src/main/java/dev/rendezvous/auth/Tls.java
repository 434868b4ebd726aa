package dev.rendezvous.auth;

import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Optional TLS for the proxy's HTTP port, from a PEM certificate (chain) and its PEM private key (PKCS#8, or
 * PKCS#1 for RSA): the proxy's {@code --tls-cert-file} and {@code --tls-key-file} (RDV_TLS_CERT_FILE,
 * RDV_TLS_KEY_FILE). Both or neither: one alone stops the start.
 *
 * @param certificate the PEM file of the server certificate, then any intermediates
 * @param key the PEM file of its private key
 */
public record Tls(Path certificate, Path key) {

  public Tls {
    for (Path p : new Path[] {certificate, key}) {
      if (!Files.isReadable(p)) {
        throw new IllegalArgumentException("TLS: cannot read " + p);
      }
    }
  }

  /** Makes the server speak HTTPS with this certificate and key. */
  public HttpServerOptions configure(HttpServerOptions options) {
    return options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
        .setCertPath(certificate.toString()).setKeyPath(key.toString()));
  }

  /**
   * A client context that trusts exactly this server's certificate, whatever host name the client used: for
   * the launcher's own requests to 127.0.0.1 (warm-up), which must not depend on the names in the certificate.
   */
  public SSLContext pinnedClientContext() {
    try (InputStream in = Files.newInputStream(certificate)) {
      X509Certificate pinned = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new Pinned(pinned)}, null);
      return context;
    } catch (IOException e) {
      throw new UncheckedIOException("TLS: cannot read " + certificate, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("TLS: " + certificate + " is not a PEM certificate: " + e.getMessage(), e);
    }
  }

  /**
   * A client context that trusts the certificates of a PEM file (a private CA, or a self-signed server
   * certificate) instead of the JDK's defaults; host names are still verified.
   */
  public static SSLContext trusting(Path pemCertificates) {
    try (InputStream in = Files.newInputStream(pemCertificates)) {
      java.security.KeyStore store = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
      store.load(null, null);
      int n = 0;
      for (java.security.cert.Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca-" + n++, c);
      }
      if (n == 0) {
        throw new IllegalArgumentException(pemCertificates + " holds no PEM certificate");
      }
      javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
          javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + pemCertificates, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(pemCertificates + " is not a PEM certificate: " + e.getMessage(), e);
    }
  }

  /** Accepts a server whose leaf certificate is the pinned one, and nothing else. */
  private static final class Pinned extends X509ExtendedTrustManager {
    private final X509Certificate pinned;

    Pinned(X509Certificate pinned) {
      this.pinned = pinned;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0 || !chain[0].equals(pinned)) {
        throw new CertificateException("the server's certificate is not the configured one");
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("not a server trust manager");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("not a server trust manager");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("not a server trust manager");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[] {pinned};
    }
  }
}
