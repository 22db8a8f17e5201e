package dist;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What Java Flight Recorder recordings of a run hold of dist's events (one file per process: the
 * scheduler's, each worker's, or one of a {@code LocalCluster}'s whole process): the tasks the workers
 * ran, the fetches between them, the results spilled to disk and read back, the workers the scheduler
 * lost. It writes them as the same page a {@link PerformanceReport} writes, so a run recorded with
 * {@code -XX:StartFlightRecording} gets its report afterwards, without a client open during the run.
 * The time per task group comes from the workers' {@code dist.TimeSpent} events, the same measures a
 * live report shows. Span totals and the profile are not in recordings; the page says so.
 *
 * <pre>{@code
 * RecordedRun run = RecordedRun.read(List.of(Path.of("scheduler.jfr"), Path.of("worker-1.jfr"), Path.of("worker-2.jfr")));
 * System.out.println(run.tasks().size() + " tasks, " + run.transfers().size() + " transfers");
 * run.writeReport(Path.of("report.html"));
 * }</pre>
 */
public final class RecordedRun {
    /** A result written to a worker's disk ({@code toDisk}) or read back from it. */
    public record Spill(String key, long bytes, boolean toDisk, Instant start, Instant stop) {
        /** The task group of the result's key, as the task stream groups it. */
        public String group() {
            return dist.scheduler.ClusterView.groupOf(key);
        }

        /** How long the write or read took (zero in recordings older than that measure). */
        public Duration duration() {
            return Duration.between(start, stop);
        }
    }

    /** The scheduler removed the worker at {@code address} at {@code at}: why, and whether it left on purpose. */
    public record WorkerLost(String address, String reason, boolean expected, Instant at) {
    }

    private final List<Path> files;
    private final List<TaskStream.Task> tasks;
    private final List<TaskStream.Transfer> transfers;
    private final List<Spill> spills;
    private final List<WorkerLost> workersLost;
    private final List<TaskStream.GroupTime> groupTimes;

    /** One {@code dist.TimeSpent} event; its end time tells a repeated event from a new one. */
    private record TimeSpent(String worker, String group, String activity, long nanos, long bytes, Instant at) {
    }

    private RecordedRun(List<Path> files, List<TaskStream.Task> tasks, List<TaskStream.Transfer> transfers,
                        List<Spill> spills, List<WorkerLost> workersLost, List<TaskStream.GroupTime> groupTimes) {
        this.groupTimes = groupTimes;
        this.files = files;
        this.tasks = tasks;
        this.transfers = transfers;
        this.spills = spills;
        this.workersLost = workersLost;
    }

    /**
     * Reads dist's events from these recordings (a directory stands for the {@code .jfr} files in it).
     * An event found twice (a file given twice, dumps that overlap) counts once.
     *
     * @throws java.io.UncheckedIOException naming the file, when one is missing (its cause a
     *         {@link java.nio.file.NoSuchFileException}), is no recording, or is cut short or damaged
     */
    public static RecordedRun read(List<Path> recordings) {
        try {
            return readFiles(recordings);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e.getMessage(), e);
        }
    }

    private static RecordedRun readFiles(List<Path> recordings) throws IOException {
        if (recordings.isEmpty()) {
            throw new IllegalArgumentException("no recording given");
        }
        List<Path> files = new ArrayList<>();
        for (Path p : recordings) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> in = Files.list(p)) {
                    List<Path> jfr = in.filter(f -> f.getFileName().toString().endsWith(".jfr") && Files.isRegularFile(f))
                            .sorted().toList();
                    if (jfr.isEmpty()) {
                        throw new IOException("the directory " + p + " holds no .jfr file");
                    }
                    files.addAll(jfr);
                }
            } else {
                files.add(p);
            }
        }
        LinkedHashSet<TaskStream.Task> tasks = new LinkedHashSet<>();
        LinkedHashSet<TaskStream.Transfer> transfers = new LinkedHashSet<>();
        LinkedHashSet<Spill> spills = new LinkedHashSet<>();
        LinkedHashSet<WorkerLost> lost = new LinkedHashSet<>();
        LinkedHashSet<TimeSpent> spent = new LinkedHashSet<>();
        for (Path f : files) {
            if (!Files.exists(f)) {
                throw new NoSuchFileException(f.toString(), null, "no such file");
            }
            try (RecordingFile in = new RecordingFile(f)) {
                while (in.hasMoreEvents()) {
                    RecordedEvent e = in.readEvent();
                    switch (e.getEventType().getName()) {
                        case "dist.TaskExecuted" -> tasks.add(task(e));
                        case "dist.Transfer" -> transfers.add(new TaskStream.Transfer(e.getString("to"),
                                e.getString("from"), e.getLong("bytes"), before(e.getEndTime(), e, "transferTime"),
                                e.getEndTime()));
                        case "dist.Spill" -> spills.add(new Spill(e.getString("key"), e.getLong("bytes"),
                                e.getBoolean("toDisk"), before(e.getEndTime(), e, "spillTime"), e.getEndTime()));
                        case "dist.TimeSpent" -> spent.add(new TimeSpent(e.getString("worker"), e.getString("group"),
                                e.getString("activity"), e.getLong("time"), e.getLong("bytes"), e.getEndTime()));
                        case "dist.WorkerLost" -> lost.add(new WorkerLost(e.getString("address"),
                                e.getString("reason"), e.getBoolean("expected"), e.getStartTime()));
                        default -> {
                            // the JVM's own events, and whatever else the recording holds
                        }
                    }
                }
            } catch (EOFException | RuntimeException e) {
                // the JDK's parser fails with runtime exceptions on a damaged file, not only with EOF
                throw new IOException(f + " is cut short or damaged (" + e.getMessage() + "): a recording is complete once its"
                        + " process has exited or 'jcmd PID JFR.dump' has finished writing it", e);
            } catch (NoSuchFileException e) {
                throw e;
            } catch (IOException e) {
                throw new IOException(f + " is not a Flight Recorder recording (" + e.getMessage() + "); record a"
                        + " process with -XX:StartFlightRecording:filename=FILE.jfr", e);
            }
        }
        return new RecordedRun(List.copyOf(files),
                tasks.stream().sorted(Comparator.comparing(TaskStream.Task::start)).toList(),
                transfers.stream().sorted(Comparator.comparing(TaskStream.Transfer::start)).toList(),
                spills.stream().sorted(Comparator.comparing(Spill::start)).toList(),
                lost.stream().sorted(Comparator.comparing(WorkerLost::at)).toList(), groupTimes(spent));
    }

    /** Per task group, the sums of its time-spent events, as the live report's rows. */
    private static List<TaskStream.GroupTime> groupTimes(java.util.Collection<TimeSpent> spent) {
        Map<String, long[]> sums = new TreeMap<>(); // per activity of FineMetrics.NAMES: nanos at 2a, bytes at 2a + 1
        for (TimeSpent t : spent) {
            int a = dist.worker.FineMetrics.NAMES.indexOf(t.activity());
            if (a < 0 || t.group() == null) {
                continue; // an activity of a newer worker
            }
            long[] v = sums.computeIfAbsent(t.group(), g -> new long[2 * dist.worker.FineMetrics.ACTIVITIES]);
            v[2 * a] += t.nanos();
            v[2 * a + 1] += t.bytes();
        }
        List<TaskStream.GroupTime> out = new ArrayList<>();
        sums.forEach((g, v) -> out.add(TaskStream.GroupTime.of(g, v)));
        return List.copyOf(out);
    }

    /** The task's run: from the event's start when it began with the run, else that long before its end. */
    private static TaskStream.Task task(RecordedEvent e) {
        long run = e.getLong("runTime");
        Instant start = e.getDuration().toNanos() >= run ? e.getStartTime() : e.getEndTime().minusNanos(run);
        return new TaskStream.Task(e.getString("key"), e.getString("worker"), start, start.plusNanos(run),
                e.getLong("resultBytes"), e.getBoolean("erred"), -1); // a recording names the thread, not the slot
    }

    private static Instant before(Instant end, RecordedEvent e, String timespan) {
        return e.hasField(timespan) ? end.minusNanos(e.getLong(timespan)) : end;
    }

    /** The recordings read, a directory replaced by its files. */
    public List<Path> files() {
        return files;
    }

    /** The tasks the workers ran, by start. */
    public List<TaskStream.Task> tasks() {
        return tasks;
    }

    /** The fetches between workers ({@code worker} is the one that fetched), by start. */
    public List<TaskStream.Transfer> transfers() {
        return transfers;
    }

    /** Results written to disk and read back, by start. */
    public List<Spill> spills() {
        return spills;
    }

    /** The workers the scheduler removed, in order. */
    public List<WorkerLost> workersLost() {
        return workersLost;
    }

    /**
     * Time per task group as the workers measured it (compute, transfer, waiting, spill, serialization),
     * from their {@code dist.TimeSpent} events; empty when the recordings did not enable them.
     */
    public List<TaskStream.GroupTime> groupTimes() {
        return groupTimes;
    }

    /** Whether the recordings held none of dist's events (a recording of another program, or with them turned off). */
    public boolean isEmpty() {
        return tasks.isEmpty() && transfers.isEmpty() && spills.isEmpty() && workersLost.isEmpty() && groupTimes.isEmpty();
    }

    /** Writes the report page to {@code html}: the sections of a {@link PerformanceReport}, and the spills and lost workers. */
    public void writeReport(Path html) {
        try {
            write(html);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write the report to " + html + ": " + e.getMessage(), e);
        }
    }

    private void write(Path html) throws IOException {
        Instant from = null;
        Instant to = null;
        List<Instant> times = new ArrayList<>();
        tasks.forEach(t -> times.addAll(List.of(t.start(), t.stop())));
        transfers.forEach(t -> times.addAll(List.of(t.start(), t.stop())));
        spills.forEach(s -> times.addAll(List.of(s.start(), s.stop())));
        workersLost.forEach(w -> times.add(w.at()));
        for (Instant t : times) {
            from = from == null || t.isBefore(from) ? t : from;
            to = to == null || t.isAfter(to) ? t : to;
        }
        Instant now = Instant.now();
        String page = PerformanceReportHtml.render(from == null ? now : from, to == null ? now : to, tasks, transfers,
                groupTimes, List.of(), Map.of(), section());
        Path parent = html.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(html, page, StandardCharsets.UTF_8);
    }

    /** The parts only a recording has: where it came from, spills per group, lost workers. */
    private String section() {
        StringBuilder b = new StringBuilder();
        b.append("<h2>From Flight Recorder recordings</h2>\n<p class=\"note\">Read from ")
                .append(files.size()).append(files.size() == 1 ? " file" : " files").append(": <span id=\"recordings\">");
        for (int i = 0; i < files.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(PerformanceReportHtml.esc(String.valueOf(files.get(i).getFileName())));
        }
        b.append("</span>. Span totals and the workers' profile are not recorded there: the sections below are empty;")
                .append(" a report written by client.performanceReport has them.")
                .append(groupTimes.isEmpty() ? " The recordings held no dist.TimeSpent event, so the time per task group"
                        + " shows no split." : "").append("</p>\n<h3>Spill per task group</h3>\n");
        Map<String, double[]> groups = new TreeMap<>();
        for (Spill s : spills) {
            double[] a = groups.computeIfAbsent(s.group(), g -> new double[6]);
            int o = s.toDisk() ? 0 : 3;
            a[o]++;
            a[o + 1] += s.bytes();
            a[o + 2] += s.duration().toNanos() / 1e9;
        }
        if (groups.isEmpty()) {
            b.append("<p id=\"spill\">No result went to disk.</p>\n");
        } else {
            b.append("<table id=\"spill\"><tr><th>group</th><th>to disk</th><th>bytes</th><th>seconds</th>")
                    .append("<th>read back</th><th>bytes</th><th>seconds</th></tr>\n");
            for (Map.Entry<String, double[]> e : groups.entrySet()) {
                double[] a = e.getValue();
                b.append("<tr><td>").append(PerformanceReportHtml.esc(e.getKey())).append("</td>");
                for (int i = 0; i < 6; i++) {
                    b.append("<td>").append(i % 3 == 2 ? String.format(java.util.Locale.ROOT, "%.3f", a[i])
                            : String.valueOf((long) a[i])).append("</td>");
                }
                b.append("</tr>\n");
            }
            b.append("</table>\n");
        }
        b.append("<h3>Workers lost</h3>\n");
        if (workersLost.isEmpty()) {
            b.append("<p id=\"workers-lost\">The scheduler lost no worker (or its recording was not given).</p>\n");
            return b.toString();
        }
        b.append("<table id=\"workers-lost\"><tr><th>worker</th><th>at</th><th>reason</th><th>on purpose</th></tr>\n");
        for (WorkerLost w : workersLost) {
            b.append("<tr><td>").append(PerformanceReportHtml.esc(w.address())).append("</td><td>").append(w.at())
                    .append("</td><td>").append(PerformanceReportHtml.esc(w.reason())).append("</td><td>")
                    .append(w.expected() ? "yes" : "no").append("</td></tr>\n");
        }
        b.append("</table>\n");
        return b.toString();
    }
}
