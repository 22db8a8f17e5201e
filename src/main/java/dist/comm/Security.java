package dist.comm;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * Who may connect: a shared token (proved by an HMAC challenge-response, never sent) and mutual TLS
 * with a certificate and key per process, all signed by one CA. Immutable; pass it in
 * {@link CommConfig#security()}.
 *
 * <pre>{@code
 * Security s = Security.none()
 *     .withTokenFile(Path.of("/etc/dist/token"))
 *     .withTls(Path.of("ca.pem"), Path.of("worker.pem"), Path.of("worker-key.pem"));
 * CommConfig config = CommConfig.DEFAULT.withSecurity(s);
 * }</pre>
 *
 * <p>With TLS configured, plain peers are refused unless {@link #requireEncryption(boolean)
 * requireEncryption(false)} says otherwise: a listener that served plain peers too would let anyone
 * in who does not bother with TLS, so configuring TLS without a token would authenticate nobody.
 *
 * <p>Files: certificates as PEM ({@code -----BEGIN CERTIFICATE-----}, the chain in order) and the key as
 * an unencrypted PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}); or a PKCS12 keystore as the
 * certificate (its key entry is used; the key file may then be omitted or name the same keystore) and
 * as the CA file (its certificate entries are trusted), opened with the given password. Any certificate
 * signed by the CA is accepted; host names are not checked (cluster members are addressed by IP).
 */
public final class Security {

    private static final Security NONE = new Security(null, null, null, null, null);

    private final byte[] token;
    private final SSLContext tls;
    /** Null: not said, which means required when TLS is configured. */
    private final Boolean requireEncryption;
    /** Where the TLS material came from, for messages; never secret. */
    private final String tlsSource;
    /** Whether a plain peer served with no proof was logged: the setting, not each such peer, is the news. */
    final java.util.concurrent.atomic.AtomicBoolean plainPeerLogged = new java.util.concurrent.atomic.AtomicBoolean();
    /** A setting that could not be loaded: reported when this is first used, not when it is read. */
    private final String problem;

    private Security(byte[] token, SSLContext tls, Boolean requireEncryption, String tlsSource, String problem) {
        this.token = token;
        this.tls = tls;
        this.requireEncryption = requireEncryption;
        this.tlsSource = tlsSource;
        this.problem = problem;
    }

    /** No token, no TLS: anyone who reaches the port is served. */
    public static Security none() {
        return NONE;
    }

    /**
     * The settings of this process's environment: the token from {@code DIST_TOKEN} or the file named by
     * {@code -Ddist.comm.token-file} (or {@code DIST_TOKEN_FILE}); TLS from {@code -Ddist.comm.tls.ca-file},
     * {@code -Ddist.comm.tls.cert}, {@code -Ddist.comm.tls.key} (password {@code -Ddist.comm.tls.password} or
     * {@code DIST_TLS_PASSWORD}); {@code -Ddist.comm.require-encryption} ({@code DIST_REQUIRE_ENCRYPTION}),
     * {@code true} by default when TLS is configured, {@code false} to serve plain peers as well. A file that
     * cannot be read is reported when the settings are first used to connect or listen.
     */
    public static Security fromEnvironment() {
        Security s = NONE;
        try {
            String tokenFile = setting("dist.comm.token-file", "DIST_TOKEN_FILE");
            String token = System.getenv("DIST_TOKEN");
            if (tokenFile != null) {
                s = s.withTokenFile(Path.of(tokenFile));
            } else if (token != null && !token.isBlank()) {
                s = s.withToken(token);
            }
            String ca = setting("dist.comm.tls.ca-file", "DIST_TLS_CA_FILE");
            String cert = setting("dist.comm.tls.cert", "DIST_TLS_CERT");
            String key = setting("dist.comm.tls.key", "DIST_TLS_KEY");
            if (ca != null || cert != null || key != null) {
                if (ca == null || cert == null) {
                    throw new IllegalArgumentException("TLS needs both dist.comm.tls.ca-file and dist.comm.tls.cert"
                            + " (and dist.comm.tls.key for a PEM certificate); got ca-file=" + ca + ", cert=" + cert);
                }
                s = s.withTls(Path.of(ca), Path.of(cert), key == null ? null : Path.of(key), password());
            }
            String require = setting("dist.comm.require-encryption", "DIST_REQUIRE_ENCRYPTION");
            if (require != null) {
                if (!require.equalsIgnoreCase("true") && !require.equalsIgnoreCase("false")) {
                    throw new IllegalArgumentException("dist.comm.require-encryption must be true or false, got '"
                            + require + "'");
                }
                s = s.requireEncryption(Boolean.parseBoolean(require));
            }
            return s;
        } catch (IllegalArgumentException e) {
            return new Security(null, null, null, null, e.getMessage());
        }
    }

    /** The TLS keystore password from the environment, or an empty one. */
    public static char[] password() {
        String p = setting("dist.comm.tls.password", "DIST_TLS_PASSWORD");
        return p == null ? new char[0] : p.toCharArray();
    }

    private static String setting(String property, String env) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            v = System.getenv(env);
        }
        return v == null || v.isBlank() ? null : v.strip();
    }

    /** This with a shared token; surrounding white space is ignored. */
    public Security withToken(String token) {
        Objects.requireNonNull(token, "token");
        String t = token.strip();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("the token is empty; use a long random string, e.g. the output of"
                    + " 'head -c 32 /dev/urandom | base64'");
        }
        return new Security(t.getBytes(StandardCharsets.UTF_8), tls, requireEncryption, tlsSource, problem);
    }

    /** This with the token read from {@code file} (its first line). */
    public Security withTokenFile(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the token file " + file + ": " + e.getMessage(), e);
        }
        String first = text.lines().findFirst().orElse("");
        if (first.isBlank()) {
            throw new IllegalArgumentException("the token file " + file + " is empty; put a long random string in"
                    + " it, e.g. 'head -c 32 /dev/urandom | base64 > " + file + "'");
        }
        return withToken(first);
    }

    /** This with mutual TLS from PEM files (no keystore password). */
    public Security withTls(Path caFile, Path certFile, Path keyFile) {
        return withTls(caFile, certFile, keyFile, new char[0]);
    }

    /**
     * This with mutual TLS: {@code caFile} holds the trusted CA certificate(s); {@code certFile} this
     * process's certificate chain and {@code keyFile} its key (PEM), or {@code certFile} is a PKCS12
     * keystore holding both ({@code keyFile} null or the same file) opened with {@code password}.
     *
     * @throws IllegalArgumentException naming the file that is missing or not in a known format
     */
    public Security withTls(Path caFile, Path certFile, Path keyFile, char[] password) {
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(certFile, "certFile");
        try {
            KeyStore trust = Pem.trustStore(caFile, password);
            KeyStore keys = Pem.keyStore(certFile, keyFile, password);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, Pem.KEY_PASSWORD);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return new Security(token, ctx, requireEncryption, "ca " + caFile + ", cert " + certFile, problem);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot set up TLS from ca " + caFile + ", cert " + certFile
                    + (keyFile != null ? ", key " + keyFile : "") + ": " + e.getMessage(), e);
        }
    }

    /**
     * With {@code true}, a listener refuses peers that do not speak TLS (needs TLS configured); with
     * {@code false}, a TLS listener serves plain peers too, which only the token then authenticates.
     * Unsaid, encryption is required exactly when TLS is configured.
     */
    public Security requireEncryption(boolean require) {
        return new Security(token, tls, require, tlsSource, problem);
    }

    /** Whether peers must prove they know the shared token. */
    public boolean hasToken() {
        return token != null;
    }

    /** Whether connections are made and accepted over TLS. */
    public boolean tlsEnabled() {
        return tls != null;
    }

    /** Whether plain (unencrypted) peers are refused: as set, else whenever TLS is configured. */
    public boolean encryptionRequired() {
        return requireEncryption != null ? requireEncryption : tls != null;
    }

    /** Whether a listener with these settings makes every peer prove who it is: a token, or TLS for all. */
    public boolean authenticatesPeers() {
        return token != null || (tls != null && encryptionRequired());
    }

    /**
     * Why a peer could be served without proving anything, naming the settings involved; null when
     * {@link #authenticatesPeers()}.
     */
    public String unauthenticatedCase() {
        if (authenticatesPeers()) {
            return null;
        }
        if (tls != null) {
            return "TLS is configured but plain peers are allowed (--allow-plaintext or"
                    + " dist.comm.require-encryption=false) and no token is set, so a plain peer is served"
                    + " without any proof of who it is";
        }
        return "neither a token nor TLS is configured";
    }

    /**
     * Whether {@code presented} is this token, compared in constant time; false when there is no token.
     * For endpoints outside the wire protocol (the dashboard) that check the same secret.
     */
    public boolean tokenMatches(String presented) {
        if (token == null || presented == null) {
            return false;
        }
        return MessageDigest.isEqual(token, presented.strip().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A value derived from the token for {@code purpose} (HMAC-SHA256, hex), e.g. a dashboard session
     * cookie that is not the token itself; null without a token.
     */
    public String derive(String purpose) {
        if (token == null) {
            return null;
        }
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(token, "HmacSHA256"));
            return java.util.HexFormat.of().formatHex(mac.doFinal(purpose.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }

    /**
     * Throws when these settings cannot be used: a file that did not load, or encryption required
     * without TLS.
     */
    public void check() {
        if (problem != null) {
            throw new IllegalStateException("security settings are unusable: " + problem);
        }
        if (Boolean.TRUE.equals(requireEncryption) && tls == null) {
            throw new IllegalStateException("encryption is required but TLS is not configured: give --tls-ca-file,"
                    + " --tls-cert and --tls-key (or dist.comm.tls.*)");
        }
    }

    byte[] token() {
        return token;
    }

    /** A new engine for one connection; mutual: the accepting side demands the peer's certificate. */
    SSLEngine engine(boolean clientMode) {
        SSLEngine e = tls.createSSLEngine();
        e.setUseClientMode(clientMode);
        SSLParameters p = e.getSSLParameters();
        p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        if (!clientMode) {
            p.setNeedClientAuth(true);
        }
        e.setSSLParameters(p);
        return e;
    }

    @Override
    public String toString() {
        return "Security[token=" + (token != null ? "set" : "none") + ", tls="
                + (tls != null ? tlsSource : "off") + ", requireEncryption=" + encryptionRequired() + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Security s && Arrays.equals(token, s.token) && tls == s.tls
                && Objects.equals(requireEncryption, s.requireEncryption) && Objects.equals(problem, s.problem);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(token), tls, requireEncryption);
    }
}
