package dist.cli;

import dist.comm.CommConfig;
import dist.comm.Security;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * The token and TLS options every role shares: {@code --token-file}, {@code --tls-ca-file},
 * {@code --tls-cert}, {@code --tls-key}, {@code --require-encryption}. They add to what the environment
 * already sets ({@code DIST_TOKEN}, {@code -Ddist.comm.*}).
 */
final class SecurityFlags {

    static final Set<String> WITH_VALUE = Set.of("--token-file", "--tls-ca-file", "--tls-cert", "--tls-key");
    static final Set<String> FLAGS = Set.of("--require-encryption");

    static final String USAGE = """
              --token-file FILE    shared token (first line); also DIST_TOKEN. Peers without it are refused
              --tls-ca-file FILE   CA certificate(s) every peer's certificate must be signed by (PEM or PKCS12)
              --tls-cert FILE      this process's certificate (PEM chain, or PKCS12 with its key)
              --tls-key FILE       this process's key (unencrypted PKCS#8 PEM); PKCS12 password: DIST_TLS_PASSWORD
              --require-encryption refuse peers that do not speak TLS
            """;

    private SecurityFlags() {
    }

    static Set<String> withValue(Set<String> own) {
        Set<String> all = new HashSet<>(own);
        all.addAll(WITH_VALUE);
        return all;
    }

    static Set<String> flags(Set<String> own) {
        Set<String> all = new HashSet<>(own);
        all.addAll(FLAGS);
        return all;
    }

    /** {@code base} with the security the options give (over the environment's). */
    static CommConfig apply(CliArgs a, CommConfig base) throws UsageException {
        Security s = base.security();
        try {
            String tokenFile = a.get("--token-file", null);
            if (tokenFile != null) {
                s = s.withTokenFile(existing("--token-file", tokenFile));
            }
            String ca = a.get("--tls-ca-file", null);
            String cert = a.get("--tls-cert", null);
            String key = a.get("--tls-key", null);
            if (ca != null || cert != null || key != null) {
                if (ca == null || cert == null) {
                    throw new UsageException("TLS needs --tls-ca-file and --tls-cert (and --tls-key unless the"
                            + " certificate is a PKCS12 keystore holding the key)");
                }
                s = s.withTls(existing("--tls-ca-file", ca), existing("--tls-cert", cert),
                        key == null ? null : existing("--tls-key", key), Security.password());
            }
            if (a.flag("--require-encryption")) {
                s = s.requireEncryption(true);
            }
            s.check();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new UsageException(e.getMessage());
        }
        return base.withSecurity(s);
    }

    /** The security options as given, to pass on to a child process. */
    static java.util.List<String> forward(CliArgs a) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (String opt : java.util.List.of("--token-file", "--tls-ca-file", "--tls-cert", "--tls-key")) {
            String v = a.get(opt, null);
            if (v != null) {
                out.add(opt);
                out.add(v);
            }
        }
        if (a.flag("--require-encryption")) {
            out.add("--require-encryption");
        }
        return out;
    }

    /** Sets the {@code dist.comm.*} properties the options stand for, for code that reads the environment. */
    static void exportToProperties(CliArgs a) {
        String[][] map = {{"--token-file", "dist.comm.token-file"}, {"--tls-ca-file", "dist.comm.tls.ca-file"},
                {"--tls-cert", "dist.comm.tls.cert"}, {"--tls-key", "dist.comm.tls.key"}};
        for (String[] m : map) {
            String v = a.get(m[0], null);
            if (v != null) {
                System.setProperty(m[1], v);
            }
        }
        if (a.flag("--require-encryption")) {
            System.setProperty("dist.comm.require-encryption", "true");
        }
    }

    private static Path existing(String option, String file) throws UsageException {
        Path p = Path.of(file);
        if (!Files.isReadable(p)) {
            throw new UsageException(option + " " + file + ": no such readable file");
        }
        return p;
    }

    /**
     * Warns when a listener on {@code host} is reachable beyond this machine with neither token nor TLS:
     * whoever reaches the port can run code with this process's rights.
     */
    static void warnIfExposed(String role, String host, Security s, PrintStream err) {
        if (s.hasToken() || s.tlsEnabled() || isLoopback(host)) {
            return;
        }
        err.println("WARNING: the " + role + " listens on " + host + " beyond this machine with neither a token"
                + " nor TLS: anyone who reaches the port can run code here. Use --token-file (or DIST_TOKEN)"
                + " and --tls-ca-file/--tls-cert/--tls-key, or listen on --host 127.0.0.1.");
        err.flush();
    }

    static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
