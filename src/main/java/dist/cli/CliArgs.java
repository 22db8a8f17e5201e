package dist.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses {@code --name value}, {@code --name=value} and {@code --flag} options and positional
 * arguments against the option names a command accepts.
 */
public final class CliArgs {
    private final Map<String, String> values = new HashMap<>();
    /** Every value of each option, in order, for options that may be given more than once. */
    private final Map<String, List<String>> every = new HashMap<>();
    private final List<String> positional = new ArrayList<>();

    private CliArgs() {
    }

    /**
     * @param withValue options that take a value
     * @param flags     options that take none
     */
    public static CliArgs parse(String[] args, Set<String> withValue, Set<String> flags) throws UsageException {
        CliArgs a = new CliArgs();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.startsWith("--")) {
                String name = arg;
                String value = null;
                int eq = arg.indexOf('=');
                if (eq > 0) {
                    name = arg.substring(0, eq);
                    value = arg.substring(eq + 1);
                }
                if (flags.contains(name)) {
                    if (value != null) {
                        throw new UsageException(name + " takes no value");
                    }
                    a.values.put(name, "true");
                } else if (withValue.contains(name)) {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new UsageException(name + " needs a value");
                        }
                        value = args[++i];
                    }
                    a.values.put(name, value);
                    a.every.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
                } else {
                    throw new UsageException("unknown option " + name);
                }
            } else {
                a.positional.add(arg);
            }
        }
        return a;
    }

    public List<String> positional() {
        return positional;
    }

    public boolean flag(String name) {
        return values.containsKey(name);
    }

    /** Every value given for {@code name}, in order (empty when not given); {@link #get} gives the last. */
    public List<String> getAll(String name) {
        return List.copyOf(every.getOrDefault(name, List.of()));
    }

    public String get(String name, String dflt) {
        return values.getOrDefault(name, dflt);
    }

    public int getInt(String name, int dflt, int min, int max) throws UsageException {
        String v = values.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) {
                throw new UsageException(name + " must be between " + min + " and " + max + ", got " + v);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be a whole number, got '" + v + "'");
        }
    }

    /** Bytes from "4GB", "400MB", "512MiB", "1000000" (0 means no limit; the worker commands read "auto" first). */
    public long getBytes(String name, long dflt) throws UsageException {
        String v = values.get(name);
        return v == null ? dflt : parseBytes(name, v);
    }

    static long parseBytes(String name, String text) throws UsageException {
        String v = text.trim().toUpperCase();
        if (v.equals("AUTO") || v.equals("0")) {
            return 0;
        }
        String[][] units = {{"KIB", "1024"}, {"MIB", "1048576"}, {"GIB", "1073741824"}, {"TIB", "1099511627776"},
                {"KB", "1000"}, {"MB", "1000000"}, {"GB", "1000000000"}, {"TB", "1000000000000"},
                {"K", "1000"}, {"M", "1000000"}, {"G", "1000000000"}, {"B", "1"}};
        long mult = 1;
        for (String[] u : units) {
            if (v.endsWith(u[0])) {
                mult = Long.parseLong(u[1]);
                v = v.substring(0, v.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            double d = Double.parseDouble(v);
            if (d < 0 || Double.isNaN(d) || Double.isInfinite(d) || d * mult >= 0x1p62) {
                throw new NumberFormatException();
            }
            return (long) (d * mult);
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be a size such as 4GB, 400MB or 1000000, got '" + text + "'");
        }
    }

    /**
     * What a worker or nanny says when it could not reach the scheduler: for an unreachable one, how long
     * it tried and the flag that sets that; else the connection's own message (a wrong peer, a token).
     */
    static String cannotReach(java.io.IOException e, int connectTimeout) {
        if (e instanceof dist.comm.UnreachableException u) {
            String last = u.lastError() instanceof java.net.ConnectException ? "connection refused"
                    : u.lastError() instanceof java.net.SocketTimeoutException ? "no answer"
                    : String.valueOf(u.lastError().getMessage());
            return "cannot reach the scheduler at " + u.address() + " within " + connectTimeout + " s (" + last + ", "
                    + u.attempts() + (u.attempts() == 1 ? " attempt" : " attempts") + "); is it running, at that"
                    + " address? --connect-timeout SECONDS sets how long to keep trying (default 10)";
        }
        return e.getMessage();
    }

    /** Checks "host:port" and returns it unchanged. */
    public static String hostPort(String what, String text) throws UsageException {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new UsageException(what + " must be HOST:PORT, e.g. 127.0.0.1:8786, got '" + text + "'");
        }
        try {
            int port = Integer.parseInt(text.substring(colon + 1));
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new UsageException(what + " has a bad port in '" + text + "': use a number from 1 to 65535");
        }
        return text;
    }

    /**
     * Returns {@code hostPort} when its host resolves; a name that does not is a configuration error,
     * said once (a retry within a connect timeout would not make it resolve).
     */
    static String resolvable(String what, String hostPort) throws UsageException {
        int scheme = hostPort.indexOf("://");
        String host = hostPort.substring(scheme < 0 ? 0 : scheme + 3,
                hostPort.lastIndexOf(':'));
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            java.net.InetAddress.getByName(host);
            return hostPort;
        } catch (java.net.UnknownHostException e) {
            throw new UsageException(what + " " + hostPort + ": cannot resolve the host name '" + host
                    + "'; check the name (or DNS here), or give an IP address such as 127.0.0.1:8786", false);
        }
    }

    /**
     * The scheduler a worker or nanny joins: the one positional HOST:PORT, else the address in
     * --scheduler-file (waiting up to {@code wait} for the file to appear), else the config key
     * {@code distributed.scheduler-address}.
     *
     * @throws IOException when --scheduler-file names no file by then, or one without an address
     */
    String schedulerAddress(String role, java.time.Duration wait) throws UsageException, java.io.IOException,
            InterruptedException {
        String file = get("--scheduler-file", null);
        if (positional.size() > 1 || (positional.size() == 1 && file != null)) {
            throw new UsageException(role + " takes one scheduler: HOST:PORT or --scheduler-file PATH, got "
                    + positional + (file == null ? "" : " and --scheduler-file " + file));
        }
        if (positional.size() == 1) {
            return resolvable("the scheduler address", hostPort("the scheduler address", positional.get(0)));
        }
        if (file != null) {
            try {
                String from = "the address in " + file;
                return resolvable(from, hostPort(from,
                        dist.comm.SchedulerFile.awaitAddress(java.nio.file.Path.of(file), wait)));
            } catch (java.util.concurrent.TimeoutException e) {
                throw new java.io.IOException(e.getMessage(), e);
            }
        }
        String configured = dist.config.Config.get("distributed.scheduler-address");
        if (configured != null && !configured.isBlank()) {
            String from = "distributed.scheduler-address (from "
                    + dist.config.Config.source("distributed.scheduler-address") + ")";
            return resolvable(from, hostPort(from, configured.strip()));
        }
        throw new UsageException(role + " needs the scheduler: HOST:PORT, --scheduler-file PATH, or the config key"
                + " distributed.scheduler-address (e.g. DIST_SCHEDULER_ADDRESS=HOST:PORT)");
    }

    /**
     * Where a role listens: --host, else the IPv4 address of --interface (e.g. "lo", "eth0"), else
     * {@code dflt}. Both at once is a usage error.
     */
    String host(String dflt) throws UsageException {
        String host = get("--host", null);
        String iface = get("--interface", null);
        if (iface == null) {
            if (host == null) {
                return dflt;
            }
            try {
                java.net.InetAddress.getByName(host.startsWith("[") && host.endsWith("]")
                        ? host.substring(1, host.length() - 1) : host);
            } catch (java.net.UnknownHostException e) {
                throw new UsageException("--host " + host + ": cannot resolve the host name; give this machine's"
                        + " name or address as the others reach it, e.g. --host 127.0.0.1", false);
            }
            return host;
        }
        if (host != null) {
            throw new UsageException("give --host or --interface, not both");
        }
        try {
            java.net.NetworkInterface ni = java.net.NetworkInterface.getByName(iface);
            if (ni == null) {
                List<String> names = new ArrayList<>();
                java.net.NetworkInterface.networkInterfaces().forEach(n -> names.add(n.getName()));
                throw new UsageException("--interface " + iface + ": no such network interface; this machine has "
                        + names);
            }
            return ni.inetAddresses().filter(a -> a instanceof java.net.Inet4Address).findFirst()
                    .map(java.net.InetAddress::getHostAddress)
                    .orElseThrow(() -> new UsageException("--interface " + iface + " has no IPv4 address"));
        } catch (java.net.SocketException e) {
            throw new UsageException("--interface " + iface + ": " + e.getMessage());
        }
    }
}
