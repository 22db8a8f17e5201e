package dist.cli;

import dist.nanny.ChildJvm;
import dist.nanny.Nanny;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code dist nanny HOST:PORT [worker options]}: a nanny that starts one worker JVM with those
 * options and restarts it when it dies. {@code dist worker HOST:PORT} runs this unless given
 * {@code --no-nanny}.
 */
public final class NannyCommand {
    static final String USAGE = """
            usage: java -jar dist.jar nanny [SCHEDULER_HOST:PORT] [worker options]
              starts a worker process and keeps it alive: restarts it when it dies, stops it past
              --memory-limit, tells the scheduler why it died, restarts it on client.restart().
              the scheduler: SCHEDULER_HOST:PORT, else --scheduler-file PATH (the file a scheduler started
                              with --scheduler-file PATH writes; waits up to --connect-timeout for it), else
                              the config key distributed.scheduler-address
              worker options: --nthreads N, --name NAME, --host HOST, --interface NAME, --port PORT|FIRST:LAST, --memory-limit SIZE,
                              --connect-timeout S, --contact-address A, --local-directory DIR,
                              --resources SPEC, --lifetime D, --lifetime-stagger D   (see 'worker --help')
              --dashboard-port P   serve the worker's /metrics on port P (default 0: any free port);
                                   a restarted worker serves it on the same port
              --dashboard-host H   the interface of the worker's /metrics (see 'worker --help')
              --no-dashboard       the worker serves no /metrics
              --worker-jvm-options "OPTS"   JVM options for the worker process, e.g. "-Xmx2g"
              --env NAME=VALUE     an environment variable of the worker process (again for more); over
                                   the nanny's own and the config's distributed.nanny.environ
            """ + SecurityFlags.USAGE;

    private NannyCommand() {
    }

    public static int run(String[] args, PrintStream out, PrintStream err) throws UsageException, IOException,
            InterruptedException {
        CliArgs a = CliArgs.parse(args, SecurityFlags.withValue(
                Set.of("--nthreads", "--name", "--host", "--interface", "--port", "--memory-limit", "--connect-timeout",
                        "--scheduler-file", "--worker-jvm-options", "--contact-address", "--local-directory", "--dashboard-port",
                        "--dashboard-host", "--resources", "--lifetime", "--lifetime-stagger", "--env")),
                SecurityFlags.flags(Set.of("--help", "--nanny", "--die-with-parent", "--no-dashboard")));
        if (a.flag("--help")) {
            out.print(USAGE);
            return 0;
        }
        int connectTimeout = a.getInt("--connect-timeout", 10, 1, 86400);
        String scheduler;
        try {
            scheduler = a.schedulerAddress("nanny", java.time.Duration.ofSeconds(connectTimeout));
        } catch (IOException e) {
            err.println("nanny: " + e.getMessage());
            return 1;
        }
        // checked here so a bad option fails now, not in every restarted worker
        int nthreads = a.getInt("--nthreads", Runtime.getRuntime().availableProcessors(), 1, 4096);
        WorkerCommand.portRange(a.get("--port", "0"));
        WorkerCommand.lifetime(a);
        a.getInt("--dashboard-port", 0, 0, 65535);
        WorkerCommand.parseResources(a.get("--resources", ""));
        long memoryLimit = WorkerCommand.memoryLimit(a, nthreads, err);
        WorkerCommand.contactAddress(a.get("--contact-address", null));
        List<String> workerArgs = new ArrayList<>();
        for (String opt : List.of("--nthreads", "--name", "--host", "--interface", "--port", "--connect-timeout", "--contact-address",
                "--local-directory", "--dashboard-port", "--dashboard-host", "--resources", "--lifetime",
                "--lifetime-stagger")) {
            String v = a.get(opt, null);
            if (v != null) {
                workerArgs.add(opt);
                workerArgs.add(v);
            }
        }
        if (a.flag("--no-dashboard")) {
            workerArgs.add("--no-dashboard");
        }
        // checks the files, and where the worker would listen, now rather than in every restarted worker
        dist.comm.Security security = SecurityFlags.apply(a, dist.comm.CommConfig.DEFAULT).security();
        String host = a.host(WorkerCommand.defaultHost(scheduler));
        SecurityFlags.checkListen("worker", host, security, a, err);
        if (!a.flag("--no-dashboard")) {
            SecurityFlags.dashboardHost("worker", host, security, a, err);
        }
        workerArgs.addAll(SecurityFlags.forward(a));
        SecurityFlags.exportToProperties(a);
        String jvmOpts = a.get("--worker-jvm-options", "").trim();
        List<String> jvm = jvmOpts.isEmpty() ? List.of() : List.of(jvmOpts.split("\\s+"));
        java.util.Map<String, String> env = new java.util.LinkedHashMap<>();
        for (String e : a.getAll("--env")) {
            int eq = e.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("--env takes NAME=VALUE, got '" + e + "'");
            }
            env.put(e.substring(0, eq), e.substring(eq + 1));
        }
        if (a.flag("--die-with-parent")) {
            ChildJvm.dieWithParent();
        }
        Nanny n;
        try {
            n = Nanny.start(new Nanny.Options(scheduler, workerArgs, memoryLimit, jvm, out, "",
                    java.time.Duration.ofSeconds(connectTimeout), env));
        } catch (dist.protocol.HandshakeException e) {
            err.println("nanny: " + e.getMessage());
            return dist.nanny.NannyMachine.CANNOT_START; // the wrong peer, or a token or TLS mismatch: no retry helps
        } catch (IOException e) {
            err.println("nanny: " + CliArgs.cannotReach(e, connectTimeout));
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!n.isClosed()) { // a signal, not the end of run(): say so, and tell the scheduler
                n.close("the nanny was stopped (SIGTERM or Ctrl-C)");
                out.println("nanny stopped");
                out.flush();
            }
        }, "dist-nanny-shutdown"));
        out.println("nanny " + n.id() + " for scheduler at: " + scheduler);
        out.flush();
        while (!n.awaitClose(1, TimeUnit.HOURS)) {
            // supervise until closed
        }
        if (n.gaveUpReason() != null) {
            // the nanny said why on its output, once; exits with the worker's own code when it cannot
            // start, so a service manager does not restart this either
            return n.workerCannotStart() ? dist.nanny.NannyMachine.CANNOT_START : 1;
        }
        return 0;
    }
}
