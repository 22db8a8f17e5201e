package dist.scheduler;

import dist.protocol.Message;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Calls {@link SchedulerPlugin}s after each event, on the owner thread, and keeps a plugin that
 * throws from stopping the scheduler: the failure is logged (the first few in full, then one in
 * a thousand) and the next callback runs as usual.
 */
final class Plugins {
    private static final System.Logger LOG = System.getLogger("dist.scheduler.plugins");
    private static final int LOGGED_IN_FULL = 10;

    private static final class Entry {
        final SchedulerPlugin plugin;
        long failures;

        Entry(SchedulerPlugin plugin) {
            this.plugin = plugin;
        }
    }

    private final List<Entry> entries = new CopyOnWriteArrayList<>();

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Adds and starts a plugin; call on the owner thread. */
    void add(SchedulerPlugin p, SchedulerServer server) {
        Entry e = new Entry(p);
        entries.add(e);
        call(e, "start", q -> q.start(server));
    }

    /** Runs the callbacks for one handled event and the transitions it caused. */
    void afterEvent(SchedulerEvent event, List<SchedulerState.Transition> transitions) {
        if (entries.isEmpty()) {
            return;
        }
        switch (event) {
            case SchedulerEvent.FromClient c -> onClientMessage(c.clientId(), c.message());
            case SchedulerEvent.FromWorker w when w.message() instanceof Message.RegisterWorker ->
                    each("addWorker", p -> p.addWorker(w.worker()));
            case SchedulerEvent.WorkerGone g -> each("removeWorker", p -> p.removeWorker(g.worker()));
            default -> { }
        }
        for (SchedulerState.Transition t : transitions) {
            each("transition", p -> p.transition(t.key(), t.from(), t.to()));
            if (t.to().equals("memory") && t.from().equals("processing")) {
                each("taskFinished", p -> p.taskFinished(t.key()));
            } else if (t.to().equals("erred")) {
                each("taskErred", p -> p.taskErred(t.key()));
            }
        }
    }

    private void onClientMessage(String clientId, Message m) {
        switch (m) {
            case Message.Batch b -> b.messages().forEach(part -> onClientMessage(clientId, part));
            case Message.UpdateGraph u when u.tasks() != null -> {
                List<String> keys = new ArrayList<>(u.tasks().size());
                u.tasks().forEach(t -> keys.add(t == null ? null : t.key()));
                List<String> view = List.copyOf(keys.stream().filter(k -> k != null).toList());
                each("updateGraph", p -> p.updateGraph(clientId, view));
            }
            // matched by name so this file does not depend on when the restart message was introduced
            case Message other when other.getClass().getSimpleName().equals("RestartCluster") ->
                    each("restart", SchedulerPlugin::restart);
            default -> { }
        }
    }

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
        } catch (VirtualMachineError vme) {
            if (!(vme instanceof OutOfMemoryError)) {
                throw vme;
            }
            report(e, callback, vme);
        } catch (Throwable t) {
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
