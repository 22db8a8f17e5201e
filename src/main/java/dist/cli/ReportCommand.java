package dist.cli;

import dist.PerformanceReport;
import dist.RecordedRun;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code dist report FILE.jfr... [--out report.html]}: the performance report of a run from the
 * Flight Recorder recordings of its processes ({@link PerformanceReport#fromRecordings}).
 *
 * <pre>
 * java -jar dist.jar report scheduler.jfr worker-*.jfr --out report.html
 * </pre>
 */
public final class ReportCommand {
    static final String USAGE = """
            usage: java -jar dist.jar report FILE.jfr [FILE.jfr...] [--out FILE.html]
              writes the performance report of a run (task stream, time per task group, bandwidth
              between workers, spills, workers lost) from Java Flight Recorder recordings of its
              processes: one per process, e.g. from -XX:StartFlightRecording:filename=worker-%p.jfr.
              A directory stands for the .jfr files in it.
              --out FILE.html   where to write the report (default dist-report.html)
            """;

    private ReportCommand() {
    }

    /** Writes the report and says where: 0 when written, 1 when it cannot be, a {@link UsageException} for a bad file or option. */
    public static int run(String[] args, PrintStream out, PrintStream err) throws UsageException, IOException {
        CliArgs a = CliArgs.parse(args, Set.of("--out"), Set.of("--help"));
        if (a.flag("--help")) {
            out.print(USAGE);
            return 0;
        }
        if (a.positional().isEmpty()) {
            throw new UsageException("give at least one recording, e.g. 'report worker.jfr --out report.html'"
                    + " (record a process with -XX:StartFlightRecording:filename=worker.jfr)");
        }
        List<Path> files = new ArrayList<>();
        for (String f : a.positional()) {
            Path p = Path.of(f);
            if (!Files.exists(p)) {
                throw new UsageException("no such file: " + f + "; give the .jfr files the processes wrote", false);
            }
            files.add(p);
        }
        Path html = Path.of(a.get("--out", "dist-report.html"));
        if (Files.isDirectory(html)) {
            throw new UsageException("--out " + html + " is a directory; give a file name, e.g. --out "
                    + html.resolve("report.html"), false);
        }
        RecordedRun run;
        try {
            run = RecordedRun.read(files);
        } catch (java.io.UncheckedIOException e) {
            if (e.getCause() instanceof NoSuchFileException n) {
                throw new UsageException("no such file: " + n.getFile() + "; give the .jfr files the processes wrote", false);
            }
            throw new UsageException(e.getCause().getMessage(), false);
        }
        if (run.isEmpty()) {
            throw new UsageException(String.join(", ", a.positional()) + " holds no dist event: record the scheduler"
                    + " and the workers (not a client alone) with -XX:StartFlightRecording, whose settings must not"
                    + " turn the dist.* events off", false);
        }
        try {
            run.writeReport(html);
        } catch (java.io.UncheckedIOException e) {
            err.println("dist report: cannot write the report to " + html + " (" + e.getCause() + "); choose another --out");
            return 1;
        }
        TreeSet<String> workers = new TreeSet<>();
        run.tasks().forEach(t -> workers.add(t.worker()));
        out.println("report written to " + html.toAbsolutePath() + ": " + run.tasks().size() + " tasks on "
                + workers.size() + " workers, " + run.transfers().size() + " transfers, " + run.spills().size()
                + " spills, " + run.workersLost().size() + " workers lost, from " + run.files().size()
                + (run.files().size() == 1 ? " recording" : " recordings"));
        return 0;
    }
}
