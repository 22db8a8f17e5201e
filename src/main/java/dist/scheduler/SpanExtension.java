package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.TaskSpec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Totals per span, as dask's SpansSchedulerExtension: tasks submitted in it (or in a span inside it),
 * compute seconds and failed runs the workers reported, and, counted when asked, tasks still known and
 * bytes they hold in memory. It also sums the workers' fine metrics ({@link Message.FineMetrics}: time and
 * bytes per activity) per span and per task group; numbers only. A span with no task left is done; beyond {@code maxSpans} the oldest done
 * ones are dropped, and while none is done a new span is not counted. Until a task carries a span this
 * costs one emptiness check per reported computation.
 */
final class SpanExtension implements SchedulerExtension {
    /** One span's running totals. */
    static final class Totals {
        final String id;
        final String parent;
        long tasks;
        long computeNanos;
        long errors;
        /** Per activity: nanoseconds at 2a, bytes at 2a + 1 (see {@link #ACTIVITIES}). */
        final long[] fine = new long[2 * ACTIVITIES];

        Totals(String id, String parent) {
            this.id = id;
            this.parent = parent;
        }
    }

    /** Activities of {@link Message.FineMetrics}: compute, transfer, waiting, spill, serialization. */
    static final int ACTIVITIES = 5;
    static final int TRANSFER = 1;
    /** Task groups kept for fine metrics; later ones add to "other". */
    static final int MAX_GROUPS = 10_000;

    /** Per task group: nanoseconds and bytes per activity, as {@link Totals#fine}. */
    private final LinkedHashMap<String, long[]> groups = new LinkedHashMap<>();
    private final int maxSpans;
    private final LinkedHashMap<String, Totals> spans = new LinkedHashMap<>();
    private long refused;
    private SchedulerContext core;
    /** The span path met last and its totals (null where not counted): a batch's tasks share one path. */
    private List<String> lastPath;
    private Totals[] lastTotals;

    SpanExtension(int maxSpans) {
        if (maxSpans < 1) {
            throw new IllegalArgumentException("distributed.scheduler.spans.max must be at least 1, not " + maxSpans);
        }
        this.maxSpans = maxSpans;
    }

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(Message.SpansRequest.class);
    }

    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(Message.FineMetrics.class);
    }

    @Override
    public void onWorker(WorkerState worker, Message message, long requestId) {
        if (!(message instanceof Message.FineMetrics m)) {
            return;
        }
        int n = Math.min(m.groups().size(), Math.min(m.activities().size(),
                Math.min(m.nanos().size(), Math.min(m.bytes().size(), m.spans().size()))));
        for (int i = 0; i < n; i++) {
            Integer a = m.activities().get(i);
            String g = m.groups().get(i);
            Long nanos = m.nanos().get(i);
            Long bytes = m.bytes().get(i);
            if (a == null || a < 0 || a >= ACTIVITIES || g == null || nanos == null || bytes == null) {
                continue; // a newer worker's activity, or a damaged entry
            }
            long[] gt = groups.get(g);
            if (gt == null) {
                gt = groups.computeIfAbsent(groups.size() < MAX_GROUPS ? g : "other", k -> new long[2 * ACTIVITIES]);
            }
            gt[2 * a] += nanos;
            gt[2 * a + 1] += bytes;
            // the span and every span it is nested in
            int depth = 0;
            for (Totals t = m.spans().get(i) == null ? null : spans.get(m.spans().get(i)); t != null && depth++ < 64;
                 t = t.parent.isEmpty() ? null : spans.get(t.parent)) {
                t.fine[2 * a] += nanos;
                t.fine[2 * a + 1] += bytes;
            }
        }
    }

    /** Per task group the workers reported fine metrics for: nanoseconds at 2a, bytes at 2a + 1 per activity. */
    Map<String, long[]> groupMetrics() {
        Map<String, long[]> copy = new LinkedHashMap<>();
        groups.forEach((g, v) -> copy.put(g, v.clone()));
        return copy;
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        List<SpanTotals> all = snapshot();
        int n = all.size();
        List<String> ids = new ArrayList<>(n);
        List<String> parents = new ArrayList<>(n);
        List<Long> tasks = new ArrayList<>(n);
        List<Long> active = new ArrayList<>(n);
        List<Double> seconds = new ArrayList<>(n);
        List<Long> errors = new ArrayList<>(n);
        List<Long> memory = new ArrayList<>(n);
        List<Boolean> done = new ArrayList<>(n);
        List<Double> transferSeconds = new ArrayList<>(n);
        List<Long> transferBytes = new ArrayList<>(n);
        for (SpanTotals s : all) {
            transferSeconds.add(s.transferSeconds());
            transferBytes.add(s.transferBytes());
            ids.add(s.id());
            parents.add(s.parent());
            tasks.add(s.tasks());
            active.add(s.active());
            seconds.add(s.computeSeconds());
            errors.add(s.errors());
            memory.add(s.memoryBytes());
            done.add(s.done());
        }
        if (requestId != 0) {
            core.reply(clientId, new Message.SpansReply(ids, parents, tasks, active, seconds, errors, memory, done,
                    transferSeconds, transferBytes),
                    requestId);
        }
    }

    @Override
    public void graphUpdated(String clientId, List<TaskSpec> tasks, List<TaskState> created) {
        for (TaskState ts : created) { // a resubmitted key is not among them: it counts once
            List<String> path = ts.options == null ? null : ts.options.span();
            if (path == null || path.isEmpty()) {
                continue;
            }
            for (Totals t : totalsOf(path, true)) {
                if (t != null) {
                    t.tasks++;
                }
            }
        }
    }

    /** The totals of each span of {@code path}, made when {@code make} and new (null where not kept). */
    private Totals[] totalsOf(List<String> path, boolean make) {
        if (path == lastPath || path.equals(lastPath)) {
            return lastTotals;
        }
        Totals[] ts = new Totals[path.size()];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = make ? totals(path.get(i), i == 0 ? "" : path.get(i - 1)) : spans.get(path.get(i));
        }
        if (make) { // a lookup that made nothing may miss spans a later update makes: not kept
            lastPath = path;
            lastTotals = ts;
        }
        return ts;
    }

    @Override
    public void computed(WorkerState worker, TaskState ts, String key, long startNanos, long stopNanos, int thread,
                         long nbytes, boolean erred) {
        if (spans.isEmpty() || ts == null || ts.options == null || ts.options.span() == null) {
            return;
        }
        long runNanos = Math.max(0, stopNanos - startNanos);
        for (Totals t : totalsOf(ts.options.span(), false)) {
            if (t != null) {
                t.computeNanos += runNanos;
                if (erred) {
                    t.errors++;
                }
            }
        }
    }

    /** The totals of {@code id}, made room for when new; null when the limit leaves no room. */
    private Totals totals(String id, String parent) {
        Totals t = spans.get(id);
        if (t != null) {
            return t;
        }
        if (spans.size() >= maxSpans) {
            Map<String, long[]> counts = count();
            Iterator<Totals> it = spans.values().iterator();
            while (it.hasNext() && spans.size() >= maxSpans) {
                if (counts.get(it.next().id) == null) {
                    it.remove(); // oldest first: insertion order
                    lastPath = null; // the cached totals may be gone
                    lastTotals = null;
                }
            }
            if (spans.size() >= maxSpans) {
                refused++;
                return null;
            }
        }
        t = new Totals(id, parent);
        spans.put(id, t);
        return t;
    }

    /** Per span id: tasks the scheduler still knows and bytes they hold in memory; one walk over all tasks. */
    private Map<String, long[]> count() {
        Map<String, long[]> c = new HashMap<>();
        for (TaskState ts : core.tasks()) {
            if (ts.options == null || ts.options.span() == null || ts.state == TaskState.FORGOTTEN) {
                continue;
            }
            for (String id : ts.options.span()) {
                long[] a = c.computeIfAbsent(id, k -> new long[2]);
                a[0]++;
                if (ts.state == TaskState.MEMORY) {
                    a[1] += Math.max(0, ts.nbytes);
                }
            }
        }
        return c;
    }

    /** Every span kept, oldest first, with its counts taken now (walks every task once). */
    List<SpanTotals> snapshot() {
        Map<String, long[]> counts = spans.isEmpty() ? Map.of() : count();
        List<SpanTotals> l = new ArrayList<>(spans.size());
        for (Totals t : spans.values()) {
            long[] a = counts.getOrDefault(t.id, new long[2]);
            l.add(new SpanTotals(t.id, nameOf(t.id), t.parent, t.tasks, a[0], t.computeNanos / 1e9, t.errors, a[1],
                    a[0] == 0, t.fine[2 * TRANSFER] / 1e9, t.fine[2 * TRANSFER + 1]));
        }
        return l;
    }

    /** Spans not counted because {@code maxSpans} were kept and none was done. */
    long refused() {
        return refused;
    }

    static String nameOf(String id) {
        int at = id.lastIndexOf('#');
        return at < 0 ? id : id.substring(0, at);
    }
}
