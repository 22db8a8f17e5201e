package dist;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Records what a block of work did and writes it, when closed, as one self-contained HTML file (styles,
 * script and drawings inline; it fetches nothing), as dask's {@code performance_report}: the task stream,
 * time per task group (compute, transfer, waiting, spill, serialization, as the workers measured them),
 * bandwidth between workers, the spans, and the workers' profile when one was collected.
 *
 * <pre>{@code
 * try (PerformanceReport report = client.performanceReport(Path.of("report.html"))) {
 *     client.map(x -> x * x, List.of(1, 2, 3)).forEach(Future::result);
 * }
 * }</pre>
 */
public final class PerformanceReport implements AutoCloseable {
    /**
     * The workers' aggregated profile: folded stacks ("frame;frame;frame", outermost first) to sample counts.
     * Empty when no profiler collected one.
     */
    interface ProfileSource {
        Optional<Map<String, Long>> profile();
    }

    private final Path path;
    private final TaskStream stream;
    private final Supplier<List<SpanInfo>> spans;
    private final ProfileSource profile;
    private final Instant started = Instant.now();
    private boolean closed;

    PerformanceReport(Path path, TaskStream stream, Supplier<List<SpanInfo>> spans, ProfileSource profile) {
        this.path = path;
        this.stream = stream;
        this.spans = spans;
        this.profile = profile;
    }

    /**
     * Writes the report of a run from Java Flight Recorder recordings of its processes (the scheduler's and
     * each worker's; a directory stands for its {@code .jfr} files) to {@code html}, as {@link RecordedRun}
     * reads them; the command line's {@code dist report} does the same.
     *
     * <pre>{@code
     * // the processes ran with -XX:StartFlightRecording:filename=scheduler.jfr (worker-1.jfr, ...)
     * RecordedRun run = PerformanceReport.fromRecordings(List.of(Path.of("scheduler.jfr"), Path.of("worker-1.jfr")),
     *         Path.of("report.html"));
     * }</pre>
     *
     * @return what the recordings held
     * @throws java.io.UncheckedIOException naming the file, when a recording is missing, is no recording or is
     *         cut short, or when the report cannot be written
     */
    public static RecordedRun fromRecordings(List<Path> recordings, Path html) {
        RecordedRun run = RecordedRun.read(recordings);
        run.writeReport(html);
        return run;
    }

    /** Where the report is written. */
    public Path path() {
        return path;
    }

    /** Stops recording and writes the report (once). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stream.close();
        Instant stopped = Instant.now();
        List<SpanInfo> s;
        try {
            s = spans.get();
        } catch (RuntimeException e) {
            s = List.of(); // the report still shows the rest
        }
        String html = PerformanceReportHtml.render(started, stopped, stream.tasks(), stream.transfers(),
                stream.groupTimes(), s, profile.profile().orElse(Map.of()));
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(path, html, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("the performance report could not be written to " + path, e);
        }
    }
}
