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
 * {@code --tls-cert}, {@code --tls-key}, {@code --require-encryption}, {@code --allow-plaintext},
 * {@code --insecure}. They add to what the environment already sets ({@code DIST_TOKEN},
 * {@code -Ddist.comm.*}). A role refuses to listen beyond loopback where peers would not have to
 * prove anything, unless {@code --insecure} says to.
 */
final class SecurityFlags {

    static final Set<String> WITH_VALUE = Set.of("--token-file", "--tls-ca-file", "--tls-cert", "--tls-key");
    static final Set<String> FLAGS = Set.of("--require-encryption", "--allow-plaintext", "--insecure");

    static final String USAGE = """
              --token-file FILE    shared token (first line); also DIST_TOKEN. Peers without it are refused
              --tls-ca-file FILE   CA certificate(s) every peer's certificate must be signed by (PEM or PKCS12)
              --tls-cert FILE      this process's certificate (PEM chain, or PKCS12 with its key)
              --tls-key FILE       this process's key (unencrypted PKCS#8 PEM); PKCS12 password: DIST_TLS_PASSWORD
              --require-encryption refuse peers that do not speak TLS (the default once TLS is configured)
              --allow-plaintext    with TLS, serve plain peers too (then only a token authenticates them)
              --insecure           listen beyond loopback even though peers need neither token nor TLS there
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
            if (a.flag("--require-encryption") && a.flag("--allow-plaintext")) {
                throw new UsageException("--require-encryption and --allow-plaintext contradict each other; give one");
            }
            if (a.flag("--require-encryption")) {
                s = s.requireEncryption(true);
            }
            if (a.flag("--allow-plaintext")) {
                if (!s.tlsEnabled()) {
                    throw new UsageException("--allow-plaintext only means something with TLS (--tls-ca-file,"
                            + " --tls-cert, --tls-key): without it every peer is plain already");
                }
                s = s.requireEncryption(false);
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
        for (String flag : java.util.List.of("--require-encryption", "--allow-plaintext", "--insecure")) {
            if (a.flag(flag)) {
                out.add(flag);
            }
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
        if (a.flag("--allow-plaintext")) {
            System.setProperty("dist.comm.require-encryption", "false");
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
     * Checks a listener of {@code role} on {@code host} before it starts: beyond loopback, peers must have
     * to prove who they are (a token, or TLS required of all), or {@code --insecure} must say otherwise,
     * in which case a warning names the case. A TLS listener that serves plain peers without a token is
     * named even on loopback: TLS was configured to keep someone out.
     *
     * @throws UsageException naming what to give when it would listen unprotected beyond this machine
     */
    static void checkListen(String role, String host, Security s, CliArgs a, PrintStream err)
            throws UsageException {
        String unprotected = s.unauthenticatedCase();
        if (unprotected == null) {
            return;
        }
        boolean loopback = isLoopback(host);
        if (!loopback && !a.flag("--insecure")) {
            throw new UsageException("the " + role + " would listen on " + host + ", beyond this machine, where "
                    + unprotected + ": anyone who reaches the port could run code here. Give every process the"
                    + " same --token-file FILE (or DIST_TOKEN)" + (s.tlsEnabled() ? " or drop --allow-plaintext"
                    : " and/or --tls-ca-file/--tls-cert/--tls-key") + ", listen on --host 127.0.0.1, or add"
                    + " --insecure to run unprotected anyway");
        }
        if (!loopback || s.tlsEnabled()) {
            err.println("WARNING: the " + role + " listens on " + host + (loopback ? "" : " beyond this machine")
                    + ", where " + unprotected + ": anyone who reaches the port can run code here. Use --token-file"
                    + " (or DIST_TOKEN)" + (s.tlsEnabled() ? ", or drop --allow-plaintext"
                    : " and --tls-ca-file/--tls-cert/--tls-key") + ", or listen on --host 127.0.0.1.");
            err.flush();
        }
    }

    /**
     * Where a role's web page listens: {@code --dashboard-host} when given, else the role's own host when a
     * token protects the page or that host is loopback, else loopback. The page is plain HTTP, so only the
     * token protects it: beyond loopback without one it needs {@code --insecure}.
     */
    static String dashboardHost(String role, String host, Security s, CliArgs a, PrintStream err)
            throws UsageException {
        String given = a.get("--dashboard-host", null);
        String h = given != null ? given : s.hasToken() || isLoopback(host) ? host : "127.0.0.1";
        if (!s.hasToken() && !isLoopback(h)) {
            if (!a.flag("--insecure")) {
                throw new UsageException("the " + role + "'s web page would listen on " + h + ", beyond this"
                        + " machine, with no token to ask of its visitors (it shows keys, addresses and errors)."
                        + " Give --token-file FILE (or DIST_TOKEN), leave --dashboard-host out (loopback), or"
                        + " add --insecure");
            }
            err.println("WARNING: the " + role + "'s web page listens on " + h + " beyond this machine with no"
                    + " token: anyone who reaches it sees keys, addresses and errors.");
            err.flush();
        }
        return h;
    }

    static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
