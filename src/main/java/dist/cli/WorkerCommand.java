package dist.cli;

import dist.nanny.ChildJvm;
import dist.comm.CommConfig;
import dist.nanny.NannyMachine;
import dist.worker.WorkerServer;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** {@code dist worker HOST:PORT [options]}: runs one worker (or --nprocs child workers). */
public final class WorkerCommand {
    static final String USAGE = """
            usage: java -jar dist.jar worker [SCHEDULER_HOST:PORT] [options]
              the scheduler: SCHEDULER_HOST:PORT, else --scheduler-file, else the config key
                                   distributed.scheduler-address (e.g. DIST_SCHEDULER_ADDRESS=HOST:PORT)
              --scheduler-file PATH  read the scheduler's address from the file a scheduler started with
                                   --scheduler-file PATH writes (waits up to --connect-timeout for it)
              --nthreads N         task slots (default: number of cores)
              --nprocs N           start N worker processes (default 1)
              --name NAME          a name for this worker (restrictions, dashboards)
              --host HOST          interface to listen on for peers, also the address others use
                                   (0.0.0.0 listens on every interface; then give --contact-address)
              --interface NAME     listen on this network interface's IPv4 address (e.g. eth0), as --host
              --contact-address A  the address the scheduler and peers should use, HOST or HOST:PORT,
                                   when it differs from --host (NAT, containers, several interfaces);
                                   host names work wherever addresses do
              --port PORT          port for peers (default 0: any free port); FIRST:LAST takes the
                                   first free port of the range
              --memory-limit SIZE  e.g. 4GB, at least 128MiB (default: none; auto: the machine's memory
                                   times this worker's share of the cores); past 60% of it results spill to disk,
                                   past 80% no new task starts (distributed.worker.memory.*)
              --local-directory DIR  where spilled results go, in a fresh folder removed on exit
              --lifetime D         close gracefully after D (e.g. 1h, 30m, 500ms) to recycle workers: its
                                   results move to other workers first; under a nanny a fresh one takes its place
              --lifetime-stagger D spread lifetimes by up to D/2 either way, so workers do not all close at once
                                   (default: the system's temporary directory)
              --resources SPEC     abstract resources offered, e.g. "GPU=2" or "GPU=2,MEM=8"; a task
                                   that needs some runs only while enough are free here
              --connect-timeout S  seconds to keep trying to reach the scheduler (default 10)
              --no-nanny           run the worker bare, without a nanny process that restarts it
              --dashboard-port P   serve this worker's /metrics on port P (default 0: any free port; the
                                   address is printed at start, and a worker its nanny restarts keeps P)
              --dashboard-host H   the interface of /metrics (default: --host when a token is set, which a
                                   scraper then sends as "Authorization: Bearer TOKEN"; else 127.0.0.1)
              --no-dashboard       serve no /metrics
              --nanny              run it under a nanny (the default; see 'nanny --help')
            exit codes: 0 closed, 1 failed (its nanny starts it again), 2 bad command line,
              78 cannot start for a reason a restart cannot cure (port taken, bad config value),
              said on stderr as "worker: cannot start: REASON"; a nanny stops at once on 2 or 78
            """ + SecurityFlags.USAGE;

    private WorkerCommand() {
    }

    public static int run(String[] args, PrintStream out, PrintStream err) throws UsageException, IOException,
            InterruptedException {
        CliArgs a = CliArgs.parse(args, SecurityFlags.withValue(
                Set.of("--nthreads", "--nprocs", "--name", "--host", "--interface", "--port", "--memory-limit", "--connect-timeout",
                        "--scheduler-file", "--resources", "--contact-address", "--local-directory", "--dashboard-port",
                        "--dashboard-host", "--lifetime", "--lifetime-stagger")),
                SecurityFlags.flags(Set.of("--help", "--no-nanny", "--nanny", "--die-with-parent", "--no-dashboard")));
        if (a.flag("--help")) {
            out.print(USAGE);
            return 0;
        }
        int connectTimeout = a.getInt("--connect-timeout", 10, 1, 86400);
        String scheduler;
        try {
            scheduler = a.schedulerAddress("worker", Duration.ofSeconds(connectTimeout));
        } catch (IOException e) {
            err.println("worker: " + e.getMessage());
            return 1;
        }
        int nthreads = a.getInt("--nthreads", Runtime.getRuntime().availableProcessors(), 1, 4096);
        int nprocs = a.getInt("--nprocs", 1, 1, 1024);
        String name = a.get("--name", null);
        Duration lifetime = lifetime(a);
        int[] ports = portRange(a.get("--port", "0"));
        // checked now; said by the process that uses it (a nanny or a child computes it again)
        long memoryLimit = memoryLimit(a, nthreads, nprocs > 1 || !a.flag("--no-nanny")
                ? new PrintStream(java.io.OutputStream.nullOutputStream()) : err);
        int dashboardPort = a.getInt("--dashboard-port", 0, 0, 65535);
        String host = a.host(defaultHost(scheduler));
        String contact = contactAddress(a.get("--contact-address", null));
        if (contact == null && (host.equals("0.0.0.0") || host.equals("::"))) {
            throw new UsageException("--host " + host + " listens everywhere but is no address others can use;"
                    + " add --contact-address HOST (this machine's address or name as the others see it)");
        }
        java.util.Map<String, Double> resources = parseResources(a.get("--resources", ""));
        java.nio.file.Path localDirectory = localDirectory(a.get("--local-directory", null));
        if (a.flag("--die-with-parent")) {
            ChildJvm.dieWithParent();
        }
        if (nprocs > 1) {
            // refused here, once, rather than in every child
            CommConfig checked = SecurityFlags.apply(a, CommConfig.DEFAULT);
            SecurityFlags.checkListen("worker", host, checked.security(), a, err);
            if (!a.flag("--no-dashboard")) {
                SecurityFlags.dashboardHost("worker", host, checked.security(), a, err);
            }
            return runChildren(args, nprocs, name, out);
        }
        if (!a.flag("--no-nanny")) {
            List<String> nannyArgs = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                if (args[i].equals("--nprocs")) {
                    i++; // one process here: the nanny has nothing to do with it
                } else if (!args[i].equals("--nanny") && !args[i].startsWith("--nprocs=")) {
                    nannyArgs.add(args[i]);
                }
            }
            return NannyCommand.run(nannyArgs.toArray(String[]::new), out, err);
        }
        CommConfig comm = SecurityFlags.apply(a,
                CommConfig.DEFAULT.withConnectTimeout(Duration.ofSeconds(connectTimeout)));
        SecurityFlags.checkListen("worker", host, comm.security(), a, err);
        String dashboardHost = a.flag("--no-dashboard") ? null
                : SecurityFlags.dashboardHost("worker", host, comm.security(), a, err);
        if (localDirectory != null) {
            try {
                java.nio.file.Files.createDirectories(localDirectory);
            } catch (IOException e) {
                // no restart makes a folder that cannot be made
                return cannotStart(err, "cannot use local directory " + localDirectory + ": " + e);
            }
        }
        WorkerServer started = null;
        try {
            for (int port = ports[0]; started == null; port++) {
                try {
                    started = WorkerServer.start(new WorkerServer.Options(scheduler, host, port, nthreads, name, memoryLimit,
                            8 * 1024, comm, contact), resources, localDirectory);
                } catch (IOException e) {
                    if (!bindFailed(e) || port >= ports[1]) {
                        throw e;
                    }
                }
            }
        } catch (IOException e) {
            if (bindFailed(e)) {
                return cannotStart(err, ports[0] == ports[1] ? e.getMessage()
                        : "no free port in " + ports[0] + ":" + ports[1] + " on " + host + " (" + e.getMessage() + ")");
            }
            if (e instanceof dist.protocol.HandshakeException) {
                return cannotStart(err, e.getMessage()); // the wrong peer, or a token or TLS mismatch
            }
            err.println("worker: " + CliArgs.cannotReach(e, connectTimeout));
            return 1; // e.g. the scheduler is not up yet: a nanny tries again
        } catch (IllegalArgumentException e) {
            return cannotStart(err, e.getMessage()); // a bad config value
        }
        WorkerServer w = started;
        dist.dashboard.WorkerDashboard metricsPage = null;
        if (dashboardHost != null) {
            try {
                metricsPage = dist.dashboard.WorkerDashboard.start(w, dashboardHost, dashboardPort,
                        comm.security());
            } catch (IOException e) {
                err.println("worker: no /metrics page on port " + dashboardPort + ": " + e.getMessage()
                        + " (choose another --dashboard-port, or 0 for any free port)");
            }
        }
        dist.dashboard.WorkerDashboard page = metricsPage;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (page != null) {
                page.close();
            }
            boolean running;
            try {
                running = !w.awaitClose(0, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                running = false;
            }
            if (running) {
                // stopped from outside (SIGTERM, a nanny): its running tasks count it as a death
                w.stop();
                out.println("worker stopped");
                out.flush();
            }
        }, "dist-worker-shutdown"));
        out.println("worker at: " + w.address() + (name != null ? " (" + name + ")" : ""));
        if (page != null) {
            out.println("metrics at: " + page.url());
        }
        out.println("registered with scheduler at: " + scheduler);
        if (lifetime != null) {
            out.println("closing after its lifetime: " + lifetime.toMillis() + " ms");
            closeAfter(w, lifetime, out);
        }
        out.flush();
        while (!w.awaitClose(1, TimeUnit.HOURS)) {
            // serve until closed
        }
        if (w.fatalError() != null) {
            err.println("worker: " + w.fatalError());
            return 1; // a nanny reports the exit and starts a fresh worker
        }
        return 0;
    }

    /**
     * The worker cannot start for a reason starting it again would not cure: says why on stderr and
     * returns {@link NannyMachine#CANNOT_START}, on which its nanny stops at once with that reason.
     */
    static int cannotStart(PrintStream err, String reason) {
        err.println("worker: cannot start: " + reason);
        err.flush();
        return NannyMachine.CANNOT_START;
    }

    /** --lifetime, moved by up to half of --lifetime-stagger either way; null when not given. */
    static Duration lifetime(CliArgs a) throws UsageException {
        String life = a.get("--lifetime", null);
        String stagger = a.get("--lifetime-stagger", null);
        if (life == null) {
            if (stagger != null) {
                throw new UsageException("--lifetime-stagger needs --lifetime");
            }
            return null;
        }
        try {
            long ms = dist.config.Config.parseDuration("--lifetime", life, "the command line").toMillis();
            if (stagger != null) {
                long spread = dist.config.Config.parseDuration("--lifetime-stagger", stagger, "the command line").toMillis();
                ms += Math.round((java.util.concurrent.ThreadLocalRandom.current().nextDouble() - 0.5) * spread);
            }
            return Duration.ofMillis(Math.max(1, ms));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** Closes {@code w} once {@code lifetime} has passed (unless it closed before). */
    private static void closeAfter(WorkerServer w, Duration lifetime, PrintStream out) {
        Thread.ofVirtual().name("dist-worker-lifetime").start(() -> {
            try {
                if (!w.awaitClose(lifetime.toMillis(), TimeUnit.MILLISECONDS)) {
                    out.println("worker: closing gracefully: its lifetime of " + lifetime.toMillis() + " ms is over");
                    out.flush();
                    w.closeGracefully(Duration.ofMinutes(1)); // as dask: its results move before it goes
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /**
     * --memory-limit in bytes (0: none); "auto" is the machine's memory times the share of its cores that
     * {@code nthreads} make, at most all of it, as dask's memory_limit="auto".
     */
    static long memoryLimit(CliArgs a, int nthreads, PrintStream err) throws UsageException {
        String v = a.get("--memory-limit", null);
        long total = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize();
        if (v == null || !v.trim().equalsIgnoreCase("auto")) {
            long bytes = checkMemoryLimit(v, a.getBytes("--memory-limit", 0));
            if (total > 0 && bytes > total) {
                // as dask: a limit past the machine's memory is the machine's memory
                err.println("worker: --memory-limit " + v.trim() + " is more than this machine's memory ("
                        + (total >> 20) + " MiB); using " + (total >> 20) + " MiB");
                return total;
            }
            return bytes;
        }
        return (long) (total * Math.min(1.0, (double) nthreads / Runtime.getRuntime().availableProcessors()));
    }

    /**
     * The least --memory-limit a worker can run under: an idle worker JVM takes about 70 MB, it pauses
     * new tasks at 80% of its limit (distributed.worker.memory.pause) and its nanny stops it at 95%.
     */
    static final long MIN_MEMORY_LIMIT = 128L << 20;

    /** {@code bytes} of --memory-limit {@code text} when a worker can run under it (0: no limit). */
    static long checkMemoryLimit(String text, long bytes) throws UsageException {
        if (bytes != 0 && bytes < MIN_MEMORY_LIMIT) {
            throw new UsageException("--memory-limit " + text.trim() + " is below the least a worker runs in, 128MiB:"
                    + " an idle worker JVM takes about 70 MB, and it pauses at 80% of its limit and is stopped at 95%;"
                    + " give e.g. --memory-limit 2GB, or 0 for no limit");
        }
        return bytes;
    }

    /** --port: "PORT" or "FIRST:LAST" as {first, last}. */
    static int[] portRange(String spec) throws UsageException {
        String[] parts = spec.trim().split(":", -1);
        try {
            if (parts.length == 1 || parts.length == 2) {
                int first = Integer.parseInt(parts[0].trim());
                int last = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : first;
                if (first >= 0 && last <= 65535 && first <= last && (first > 0 || last == 0)) {
                    return new int[]{first, last};
                }
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new UsageException("--port takes a port or a range FIRST:LAST, e.g. 9000 or 9000:9010; got \"" + spec + "\"");
    }

    /** Whether the listening port could not be had (taken, or not this machine's address). */
    static boolean bindFailed(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException) {
                return true;
            }
        }
        return false;
    }

    /** "GPU=2,MEM=8" (commas or spaces between entries) to a map; a clear error for anything else. */
    static java.util.Map<String, Double> parseResources(String spec) throws UsageException {
        java.util.Map<String, Double> m = new java.util.LinkedHashMap<>();
        for (String part : spec.trim().split("[,\\s]+")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String name = eq > 0 ? part.substring(0, eq).trim() : "";
            double amount;
            try {
                amount = eq > 0 ? Double.parseDouble(part.substring(eq + 1).trim()) : Double.NaN;
            } catch (NumberFormatException e) {
                amount = Double.NaN;
            }
            if (name.isEmpty() || !(amount >= 0) || Double.isInfinite(amount)) {
                throw new UsageException("--resources takes NAME=AMOUNT entries such as \"GPU=2,MEM=8\"; got \""
                        + part + "\"");
            }
            m.put(name, amount);
        }
        return m;
    }

    /** Checks a --contact-address value: HOST, HOST:PORT or [IPv6]:PORT; null stays null. */
    static String contactAddress(String text) throws UsageException {
        if (text == null) {
            return null;
        }
        String t = text.strip();
        if (t.startsWith("tcp://")) {
            t = t.substring(6);
        }
        int colon = t.lastIndexOf(':');
        boolean withPort = colon > 0 && (t.startsWith("[") ? t.charAt(colon - 1) == ']' : t.indexOf(':') == colon);
        if (t.isEmpty() || t.startsWith(":") || t.contains("/") || t.contains(" ")) {
            throw new UsageException("--contact-address must be HOST or HOST:PORT, e.g. 10.0.0.5 or "
                    + "node7.example.org:9000, got '" + text + "'");
        }
        if (withPort) {
            CliArgs.hostPort("--contact-address", t);
        }
        return t;
    }

    /** Checked now, so a bad folder is a usage error rather than a failed spill much later. */
    static java.nio.file.Path localDirectory(String dir) throws UsageException {
        if (dir == null) {
            return null;
        }
        java.nio.file.Path p;
        try {
            p = java.nio.file.Path.of(dir).toAbsolutePath();
        } catch (java.nio.file.InvalidPathException e) {
            throw new UsageException("--local-directory: '" + dir + "' is not a valid path: " + e.getMessage());
        }
        if (java.nio.file.Files.exists(p) && !java.nio.file.Files.isDirectory(p)) {
            throw new UsageException("--local-directory: " + p + " exists and is not a directory; name a folder");
        }
        return p;
    }

    /** The interface a worker of {@code scheduler} listens on when --host is not given. */
    static String defaultHost(String scheduler) {
        String h = scheduler.substring(0, scheduler.lastIndexOf(':'));
        try {
            if (InetAddress.getByName(h).isLoopbackAddress()) {
                return "127.0.0.1";
            }
            return InetAddress.getLocalHost().getHostAddress();
        } catch (IOException e) {
            return "127.0.0.1";
        }
    }

    /** --nprocs: the same command once per child, each with one process; exits when all have. */
    private static int runChildren(String[] args, int nprocs, String name, PrintStream out)
            throws IOException, InterruptedException {
        List<String> childArgs = new ArrayList<>();
        childArgs.add("worker");
        for (int i = 0; i < args.length; i++) {
            String s = args[i];
            if (s.equals("--nprocs") || s.equals("--name")) {
                i++;
            } else if (!s.startsWith("--nprocs=") && !s.startsWith("--name=") && !s.equals("--die-with-parent")) {
                childArgs.add(s);
            }
        }
        List<Process> children = new ArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> children.forEach(p -> ChildJvm.stop(p, 5000))));
        for (int i = 0; i < nprocs; i++) {
            List<String> ca = new ArrayList<>(childArgs);
            if (name != null) {
                ca.add("--name");
                ca.add(name + "-" + i);
            }
            children.add(ChildJvm.start(List.of(), ca, "[worker " + i + "] ", out));
        }
        int code = 0;
        for (Process p : children) {
            code = Math.max(code, p.waitFor());
        }
        return code;
    }
}
