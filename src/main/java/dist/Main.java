package dist;

import dist.cli.SchedulerCommand;
import dist.cli.UsageException;
import dist.cli.WorkerCommand;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * The command line: one jar, the role chosen by the first argument.
 *
 * <pre>
 * java -jar dist.jar scheduler [--port 8786]
 * java -jar dist.jar worker 127.0.0.1:8786 [--nthreads 2]
 * java -jar dist.jar report scheduler.jfr worker.jfr --out report.html
 * </pre>
 */
public final class Main {
    private static final String USAGE = """
            usage: java -jar dist.jar ROLE [options]
              scheduler [--host H] [--port P]      run the scheduler
              worker HOST:PORT [--nthreads N] ...  run a worker (under a nanny unless --no-nanny)
              nanny HOST:PORT [worker options]     run a nanny that starts and restarts one worker
              ssh HOST [HOST...] [--hostfile F]    a scheduler on the first host, workers on the rest, over ssh
              report FILE.jfr... [--out F.html]   a performance report from Flight Recorder recordings of a run
            'java -jar dist.jar ROLE --help' lists a role's options; --version says which dist and Java.
            """;

    private Main() {
    }

    public static void main(String[] args) {
        dist.cli.LogFormat.install(); // here, not in run(): an application that calls run() keeps its own format
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a role and returns its exit code: 0 done, 1 failed, 2 bad command line. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            (args.length == 0 ? err : out).print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("--version") || args[0].equals("version")) {
            java.util.Map<String, String> v = dist.protocol.Versions.local();
            out.println("dist " + v.get("dist") + " (Java " + v.get("java") + ", " + v.get("os") + ")");
            return 0;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            return switch (args[0]) {
                case "scheduler" -> SchedulerCommand.run(rest, out, err);
                case "worker" -> WorkerCommand.run(rest, out, err);
                case "nanny" -> dist.cli.NannyCommand.run(rest, out, err);
                case "ssh" -> dist.cli.SshCommand.run(rest, out, err);
                case "report" -> dist.cli.ReportCommand.run(rest, out, err);
                default -> throw new UsageException("unknown role '" + args[0]
                        + "'; expected scheduler, worker, nanny, ssh or report");
            };
        } catch (UsageException e) {
            err.println("dist " + args[0] + ": " + e.getMessage());
            if (e.usageHint()) {
                err.println("run 'java -jar dist.jar " + (args[0].matches("scheduler|worker|nanny|ssh|report") ? args[0] + " " : "")
                        + "--help' for usage");
            }
            return 2;
        } catch (Exception e) {
            err.println("dist " + args[0] + ": " + e);
            return 1;
        }
    }
}
