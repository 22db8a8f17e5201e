package dist.scheduler;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs {@link SchedulerPlugin}s as the core's events happen: it observes every transition and
 * hears of workers, updates and restarts, on the owner thread. A plugin that throws anything
 * cannot stop the scheduler nor cut a transition short: the failure is logged (the first few in
 * full, then one in a thousand) and the next callback runs as usual. The server adds plugins and
 * closes them, the calls that need the server itself.
 */
final class PluginExtension implements SchedulerExtension {
    private static final System.Logger LOG = System.getLogger("dist.scheduler.plugins");
    private static final int LOGGED_IN_FULL = 10;

    private static final class Entry {
        final SchedulerPlugin plugin;
        long failures;

        Entry(SchedulerPlugin plugin) {
            this.plugin = plugin;
        }
    }

    /** Written and read on the owner thread only. */
    private final ArrayList<Entry> entries = new ArrayList<>();

    private SchedulerContext core;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Adds and starts a plugin; call on the owner thread ({@code server} null in tests without one). */
    void add(SchedulerPlugin p, SchedulerServer server) {
        Entry e = new Entry(p);
        entries.add(e);
        if (entries.size() == 1 && core != null) {
            core.transitionsWanted(); // without plugins, transitions cost this extension nothing
        }
        call(e, "start", q -> q.start(server));
    }

    @Override
    public boolean observesTransitions() {
        return !entries.isEmpty();
    }

    @Override
    public void transition(TaskState task, byte from, byte to) {
        if (entries.isEmpty()) {
            return;
        }
        String key = task.key, f = TaskState.name(from), t = TaskState.name(to);
        each("transition", p -> p.transition(key, f, t));
        if (to == TaskState.MEMORY && from == TaskState.PROCESSING) {
            each("taskFinished", p -> p.taskFinished(key));
        } else if (to == TaskState.ERRED) {
            each("taskErred", p -> p.taskErred(key));
        }
    }

    @Override
    public void graphUpdated(String clientId, List<dist.protocol.TaskSpec> tasks) {
        if (entries.isEmpty()) {
            return;
        }
        ArrayList<String> keys = new ArrayList<>(tasks.size());
        for (dist.protocol.TaskSpec t : tasks) {
            if (t != null && t.key() != null) {
                keys.add(t.key());
            }
        }
        List<String> view = List.copyOf(keys);
        each("updateGraph", p -> p.updateGraph(clientId, view));
    }

    @Override
    public void workerAdded(WorkerState worker) {
        each("addWorker", p -> p.addWorker(worker.address));
    }

    @Override
    public void workerRemoved(WorkerState worker) {
        each("removeWorker", p -> p.removeWorker(worker.address));
    }

    @Override
    public void clusterRestarted(String clientId, String reason) {
        each("restart", SchedulerPlugin::restart);
    }

    /** The scheduler is stopping; call on the owner thread. */
    void close() {
        each("close", SchedulerPlugin::close);
    }

    private void each(String callback, Consumer<SchedulerPlugin> action) {
        for (Entry e : entries) {
            call(e, callback, action);
        }
    }

    private static void call(Entry e, String callback, Consumer<SchedulerPlugin> action) {
        try {
            action.accept(e.plugin);
        } catch (Throwable t) {
            // even an Error: thrown out of here it would leave a transition half applied
            report(e, callback, t);
        }
    }

    private static void report(Entry e, String callback, Throwable t) {
        long n = ++e.failures;
        if (n <= LOGGED_IN_FULL || n % 1000 == 0) {
            LOG.log(Level.WARNING, "scheduler plugin " + e.plugin.getClass().getName() + " threw in " + callback
                    + " (failure " + n + "); the scheduler carries on", t);
        }
    }

    /** Failures of each plugin so far, in the order they were added; for tests and diagnostics. */
    List<Long> failureCounts() {
        return entries.stream().map(x -> x.failures).toList();
    }
}
