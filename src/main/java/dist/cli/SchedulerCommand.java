package dist.cli;

import dist.comm.CommConfig;
import dist.dashboard.Dashboard;
import dist.scheduler.SchedulerConfig;
import dist.scheduler.SchedulerPlugin;
import dist.scheduler.SchedulerServer;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code dist scheduler [--host H] [--port P]}: runs a scheduler until SIGTERM, Ctrl-C or a client's
 * {@code shutdown()}, then exits (code 0 after a shutdown).
 */
public final class SchedulerCommand {
    static final String USAGE = """
            usage: java -jar dist.jar scheduler [--host HOST] [--port PORT] [--dashboard-port PORT] [--plugin CLASS[,CLASS...]]
                                              [--scheduler-file PATH]
              --host HOST     interface to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
              --interface NAME  listen on this network interface's IPv4 address (e.g. eth0) instead of --host
              --port PORT     port to listen on (default 8786; 0 picks a free one)
              --dashboard-port PORT  the web dashboard's port (default 8787, or a free one when 8787 is
                              taken; 0 picks a free one; a port given here that is taken is an error)
              --dashboard-host HOST  the dashboard's interface (default: --host when a token is set, which
                              every visitor must then give; else 127.0.0.1)
              --no-dashboard  serve no dashboard
              --scheduler-file PATH  once listening, write the scheduler's address and id there (JSON), for
                              'worker --scheduler-file PATH', 'nanny --scheduler-file PATH' and
                              Client.connectSchedulerFile; removed when the scheduler stops
              --plugin CLASS  a dist.scheduler.SchedulerPlugin to run inside the scheduler, by class name
                              (on the scheduler's class path: java -cp dist.jar:plugin.jar dist.Main scheduler ...)
            """ + SecurityFlags.USAGE;

    private SchedulerCommand() {
    }

    /**
     * The dashboard on {@code port}; when the default port is taken, on a free one. A port the user
     * chose that is taken is an error (null, said on {@code err}): it was asked for by name.
     */
    private static Dashboard startDashboard(SchedulerServer s, String host, int port, boolean chosen, PrintStream err) {
        try {
            return Dashboard.start(s, host, port);
        } catch (IOException e) {
            if (chosen) {
                err.println("scheduler: the dashboard cannot use --dashboard-port " + port + " (" + e.getMessage()
                        + "); choose another, 0 for a free one, or --no-dashboard");
                return null;
            }
            err.println("scheduler: the dashboard cannot use port " + port + " (" + e.getMessage()
                    + "); using a free port instead (choose one with --dashboard-port)");
        }
        try {
            return Dashboard.start(s, host, 0);
        } catch (IOException e) {
            err.println("scheduler: no dashboard: " + e.getMessage());
            return null;
        }
    }

    public static int run(String[] args, PrintStream out, PrintStream err) throws UsageException, IOException,
            InterruptedException {
        CliArgs a = CliArgs.parse(args,
                SecurityFlags.withValue(Set.of("--host", "--interface", "--port", "--dashboard-port", "--dashboard-host", "--plugin",
                        "--scheduler-file")),
                SecurityFlags.flags(Set.of("--help", "--die-with-parent", "--no-dashboard")));
        if (a.flag("--help")) {
            out.print(USAGE);
            return 0;
        }
        if (!a.positional().isEmpty()) {
            throw new UsageException("scheduler takes no positional argument, got '" + a.positional().get(0) + "'");
        }
        String host = a.host("127.0.0.1");
        int port = a.getInt("--port", 8786, 0, 65535);
        int dashboardPort = a.getInt("--dashboard-port", 8787, 0, 65535);
        if (a.flag("--die-with-parent")) {
            dist.nanny.ChildJvm.dieWithParent();
        }
        List<SchedulerPlugin> plugins = new ArrayList<>();
        for (String name : a.get("--plugin", "").split(",")) {
            if (!name.isBlank()) {
                try {
                    plugins.add(SchedulerPlugin.load(name.strip(), Thread.currentThread().getContextClassLoader()));
                } catch (IllegalArgumentException e) {
                    throw new UsageException(e.getMessage());
                }
            }
        }
        CommConfig comm = SecurityFlags.apply(a, CommConfig.DEFAULT);
        SecurityFlags.checkListen("scheduler", host, comm.security(), a, err);
        String dashboardHost = a.flag("--no-dashboard") ? null
                : SecurityFlags.dashboardHost("scheduler", host, comm.security(), a, err);
        SchedulerServer s;
        try {
            s = SchedulerServer.start(host, port, SchedulerConfig.defaults(), comm, plugins);
        } catch (IOException e) {
            // the message names the address and the cause once; a port in use gets the scheduler's own hint
            err.println("scheduler: " + e.getMessage() + (String.valueOf(e.getMessage()).contains("in use")
                    ? "; is another scheduler running there? choose another --port" : ""));
            return 1;
        }
        String schedulerFile = a.get("--scheduler-file", null);
        if (schedulerFile != null) {
            try {
                s.writeSchedulerFile(java.nio.file.Path.of(schedulerFile));
            } catch (IOException | java.nio.file.InvalidPathException e) {
                s.close();
                err.println("scheduler: cannot write the scheduler file " + schedulerFile + ": " + e);
                return 1;
            }
        }
        boolean dashboardChosen = a.get("--dashboard-port", null) != null;
        Dashboard dashboard = dashboardHost == null ? null
                : startDashboard(s, dashboardHost, dashboardPort, dashboardChosen, err);
        if (dashboardHost != null && dashboard == null && dashboardChosen) {
            s.close();
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (dashboard != null) {
                dashboard.close();
            }
            s.close();
        }, "dist-scheduler-shutdown"));
        out.println("scheduler at: " + s.address());
        if (dashboard != null) {
            out.println("dashboard at: " + dashboard.url()
                    + (comm.security().hasToken() ? " (log in with the token: ?token=TOKEN once)" : ""));
        }
        out.flush();
        // closed by SIGTERM (the hook above) or by a client's ShutdownCluster: either way the process ends
        while (!s.awaitClose(1, TimeUnit.HOURS)) {
            // serve until closed
        }
        if (dashboard != null) {
            dashboard.close();
        }
        out.println("scheduler stopped");
        out.flush();
        return 0;
    }
}
