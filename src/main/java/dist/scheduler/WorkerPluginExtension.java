package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.PluginDone;
import dist.protocol.Message.PluginFailed;
import dist.protocol.Message.RegisterPlugin;
import dist.protocol.Message.SetupPlugin;
import dist.protocol.Message.TeardownPlugin;
import dist.protocol.Message.UnregisterPlugin;
import dist.protocol.Message.WatchNannyPlugins;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Worker and nanny plugins, as dask's scheduler keeps {@code worker_plugins} and
 * {@code nanny_plugins}: each is the bytes a client encoded, stored under its name (never decoded
 * here), sent to every worker (or nanny) now and to each that joins later. A registration is
 * answered once every current target said its setup ended: {@link Message.Ack}, or the first
 * setup's error ({@link PluginFailed}); a target that leaves meanwhile is not waited for, and one
 * that says nothing within {@link #SETUP_NANOS} fails the registration. Bounded: at most
 * {@link #MAX_PLUGINS} plugins of {@link #MAX_BYTES} bytes in all, and {@link #MAX_PENDING}
 * registrations waiting at once.
 */
final class WorkerPluginExtension implements SchedulerExtension {
    static final int MAX_PLUGINS = 64;
    static final long MAX_BYTES = 256L << 20;
    static final int MAX_PENDING = 256;
    static final int MAX_NAME = 256;
    /** How long a registration waits for the setups it started. */
    static final long SETUP_NANOS = 120_000_000_000L;

    private record Stored(String name, byte[] bytes, String clientId, boolean nanny) {}

    /** A registration or removal waiting on its targets. */
    private static final class Pending {
        final String name;
        final String clientId;
        final long requestId;
        final long deadline;
        final Set<String> waiting;
        String where;
        byte[] error;
        String summary;
        int failures;

        Pending(String name, String clientId, long requestId, long deadline, Set<String> waiting) {
            this.name = name;
            this.clientId = clientId;
            this.requestId = requestId;
            this.deadline = deadline;
            this.waiting = waiting;
        }
    }

    private SchedulerContext core;
    /** The bound on the bytes of all plugins: {@link #MAX_BYTES}, lowered by tests. */
    long maxBytes = MAX_BYTES;
    private final Map<String, Stored> plugins = new LinkedHashMap<>();
    private long bytes;
    /** Nannies that asked for the nanny plugins, by their connection's id. */
    private final Set<String> nannies = new LinkedHashSet<>();
    private final Map<Long, Pending> pending = new LinkedHashMap<>();
    private long seq;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(RegisterPlugin.class, UnregisterPlugin.class, WatchNannyPlugins.class, PluginDone.class);
    }

    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(PluginDone.class);
    }

    @Override
    public void onClient(String clientId, Message m, long requestId) {
        switch (m) {
            case RegisterPlugin r -> register(clientId, r, requestId);
            case UnregisterPlugin u -> unregister(clientId, u, requestId);
            case WatchNannyPlugins w -> {
                nannies.add(clientId);
                List<SetupPlugin> now = new ArrayList<>();
                for (Stored s : plugins.values()) {
                    if (s.nanny()) {
                        now.add(new SetupPlugin(s.name(), s.bytes(), s.clientId(), 0));
                    }
                }
                if (requestId != 0) {
                    core.reply(clientId, new Message.NannyPlugins(now), requestId);
                } else {
                    now.forEach(s -> core.send(clientId, s));
                }
            }
            case PluginDone d -> done(clientId, d);
            default -> throw new IllegalStateException("not a plugin message: " + m);
        }
    }

    @Override
    public void onWorker(WorkerState worker, Message m, long requestId) {
        if (m instanceof PluginDone d) {
            done(worker.address, d);
        }
    }

    private void register(String clientId, RegisterPlugin r, long requestId) {
        String name = r.name();
        if (name == null || name.isBlank() || name.length() > MAX_NAME) {
            throw new IllegalArgumentException("a plugin needs a name of 1 to " + MAX_NAME + " characters");
        }
        if (r.plugin() == null || r.plugin().length == 0) {
            throw new IllegalArgumentException("plugin " + name + " has no bytes");
        }
        Stored old = plugins.get(name);
        if (old == null && plugins.size() >= MAX_PLUGINS) {
            throw new IllegalArgumentException("the scheduler holds " + MAX_PLUGINS + " plugins already;"
                    + " unregister one first");
        }
        long after = bytes - (old == null ? 0 : old.bytes().length) + r.plugin().length;
        if (after > maxBytes) {
            throw new IllegalArgumentException("plugin " + name + " (" + r.plugin().length + " bytes) does not fit:"
                    + " the scheduler keeps at most " + maxBytes + " bytes (" + (maxBytes >> 20) + " MiB) of plugins");
        }
        if (pending.size() >= MAX_PENDING) {
            throw new IllegalArgumentException(MAX_PENDING + " plugin registrations wait already; try again");
        }
        if (old != null && old.nanny() != r.nanny()) {
            // the same name as the other kind: the old one goes from where it ran
            for (String t : targets(old.nanny())) {
                core.send(t, new TeardownPlugin(name, 0));
            }
        }
        Stored s = new Stored(name, r.plugin(), clientId, r.nanny());
        plugins.put(name, s);
        bytes = after;
        core.log(System.Logger.Level.INFO, "client " + clientId + " registered " + (r.nanny() ? "nanny" : "worker")
                + " plugin " + name + " (" + r.plugin().length + " bytes)");
        List<String> targets = targets(r.nanny());
        if (targets.isEmpty()) {
            reply(clientId, requestId, new Message.Ack());
            return;
        }
        long id = ++seq;
        pending.put(id, new Pending(name, clientId, requestId, core.now() + SETUP_NANOS, new LinkedHashSet<>(targets)));
        for (String t : targets) {
            core.send(t, new SetupPlugin(name, s.bytes(), clientId, id));
        }
    }

    private void unregister(String clientId, UnregisterPlugin u, long requestId) {
        Stored s = u.name() == null ? null : plugins.get(u.name());
        if (s == null) {
            throw new IllegalArgumentException("there is no plugin named " + u.name() + "; registered: "
                    + plugins.keySet());
        }
        plugins.remove(s.name());
        bytes -= s.bytes().length;
        List<String> targets = targets(s.nanny());
        if (targets.isEmpty() || pending.size() >= MAX_PENDING) {
            for (String t : targets) {
                core.send(t, new TeardownPlugin(s.name(), 0));
            }
            reply(clientId, requestId, new Message.Ack());
            return;
        }
        long id = ++seq;
        pending.put(id, new Pending(s.name(), clientId, requestId, core.now() + SETUP_NANOS, new LinkedHashSet<>(targets)));
        for (String t : targets) {
            core.send(t, new TeardownPlugin(s.name(), id));
        }
    }

    private List<String> targets(boolean nanny) {
        if (nanny) {
            return List.copyOf(nannies);
        }
        List<String> out = new ArrayList<>();
        for (WorkerState w : core.workers()) {
            out.add(w.address);
        }
        return out;
    }

    private void done(String from, PluginDone d) {
        if (d.seq() == 0) {
            if (d.error() != null || d.summary() != null) {
                core.log(System.Logger.Level.WARNING, "plugin " + d.name() + " failed on " + from + ": " + d.summary());
            }
            return;
        }
        Pending p = pending.get(d.seq());
        if (p == null || !p.waiting.remove(from)) {
            return;
        }
        if (d.error() != null || d.summary() != null) {
            core.log(System.Logger.Level.WARNING, "plugin " + d.name() + " failed on " + from + ": " + d.summary());
            if (p.failures++ == 0) {
                p.where = from;
                p.error = d.error();
                p.summary = d.summary();
            }
        }
        finishIfDone(d.seq(), p);
    }

    private void finishIfDone(long id, Pending p) {
        if (!p.waiting.isEmpty()) {
            return;
        }
        pending.remove(id);
        reply(p.clientId, p.requestId, p.failures == 0 ? new Message.Ack()
                : new PluginFailed(p.name, p.where, p.error, p.summary, p.failures));
    }

    private void reply(String to, long requestId, Message m) {
        if (requestId != 0) {
            core.reply(to, m, requestId);
        }
    }

    @Override
    public void workerAdded(WorkerState worker) {
        for (Stored s : plugins.values()) {
            if (!s.nanny()) {
                core.send(worker.address, new SetupPlugin(s.name(), s.bytes(), s.clientId(), 0));
            }
        }
    }

    @Override
    public void workerRemoved(WorkerState worker) {
        gone(worker.address);
    }

    @Override
    public void clientGone(String clientId) {
        // plugins outlive the client that registered them, as dask's; only a nanny's link ends here
        if (nannies.remove(clientId)) {
            gone(clientId);
        }
    }

    private void gone(String target) {
        for (Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Pending> e = it.next();
            Pending p = e.getValue();
            if (p.waiting.remove(target) && p.waiting.isEmpty()) {
                it.remove();
                reply(p.clientId, p.requestId, p.failures == 0 ? new Message.Ack()
                        : new PluginFailed(p.name, p.where, p.error, p.summary, p.failures));
            }
        }
    }

    @Override
    public void tick() {
        long now = core.now();
        for (Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            Pending p = it.next().getValue();
            if (now - p.deadline >= 0) {
                it.remove();
                reply(p.clientId, p.requestId, new Message.ErrorReply("plugin " + p.name + ": " + p.waiting
                        + " did not finish within " + SETUP_NANOS / 1_000_000_000L + " s"));
            }
        }
    }

    /** The names of the plugins kept, in registration order (for tests and diagnostics). */
    List<String> names() {
        return List.copyOf(plugins.keySet());
    }
}
