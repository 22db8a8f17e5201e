package dist.scheduler;

import dist.config.Config;
import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.SharedTimedOut;
import dist.protocol.Message.SharedValue;
import dist.protocol.Message.VariableDelete;
import dist.protocol.Message.VariableGet;
import dist.protocol.Message.VariableSet;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Named variables (dask's {@code Variable}): one value each, bytes the scheduler never decodes,
 * whose futures it keeps alive until the value is replaced or deleted. A get of a variable not set
 * yet waits, as a request answered by the next set or on the tick after its deadline. Waiters per
 * variable and variables are bounded.
 */
final class VariableExtension implements SchedulerExtension {

    private static final class V {
        final String name;
        SharedValue value;
        List<TaskState> tasks = List.of();
        SharedHolds holds;
        final ArrayDeque<SharedWait> waiters = new ArrayDeque<>();

        V(String name) {
            this.name = name;
        }
    }

    private final int maxWaiters;
    private final int maxNames;
    private final HashMap<String, V> vars = new HashMap<>();
    private SchedulerContext core;

    VariableExtension() {
        this(Config.getInt("distributed.scheduler.shared-max-waiters"),
                Config.getInt("distributed.scheduler.shared-max-names"));
    }

    VariableExtension(int maxWaiters, int maxNames) {
        this.maxWaiters = maxWaiters;
        this.maxNames = maxNames;
    }

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(VariableSet.class, VariableGet.class, VariableDelete.class, Message.VariableIsSet.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        switch (message) {
            case VariableSet s -> set(clientId, s, requestId);
            case VariableGet g -> {
                V v = vars.get(SharedNames.checked("variable", g.name()));
                if (v != null && v.value != null) {
                    core.reply(clientId, SharedHolds.handOver(core, clientId, v.value, v.tasks), requestId);
                } else if (g.timeoutMillis() <= 0) {
                    core.reply(clientId, new SharedTimedOut("variable '" + g.name() + "' is not set"), requestId);
                } else {
                    v = variable(g.name());
                    if (v.waiters.size() >= maxWaiters) {
                        throw new IllegalArgumentException("variable '" + g.name() + "' has " + v.waiters.size()
                                + " gets waiting already, its limit (distributed.scheduler.shared-max-waiters)");
                    }
                    v.waiters.add(new SharedWait(clientId, requestId, 0, SharedWait.deadline(core.now(), g.timeoutMillis())));
                }
            }
            case Message.VariableIsSet s -> {
                V v = vars.get(SharedNames.checked("variable", s.name()));
                core.reply(clientId, new Message.SharedFlag(v != null && v.value != null), requestId);
            }
            case VariableDelete d -> {
                V v = vars.get(SharedNames.checked("variable", d.name()));
                if (v != null) {
                    clearValue(v);
                    forgetIfIdle(v);
                }
                core.reply(clientId, new Ack(), requestId);
            }
            default -> throw new IllegalStateException("not a variable message: " + message);
        }
    }

    private void set(String clientId, VariableSet s, long requestId) {
        SharedNames.checked("variable", s.name());
        if (s.value() == null) {
            throw new IllegalArgumentException("variable '" + s.name() + "': set needs a value");
        }
        List<TaskState> tasks = SharedHolds.resolve(core, "the value of variable '" + s.name() + "'", s.keys());
        V v = variable(s.name());
        SharedHolds old = v.holds;
        v.holds = new SharedHolds("variable:" + s.name());
        v.holds.hold(core, tasks); // before the old value lets go: keys both share stay
        if (old != null) {
            old.releaseAll(core);
        }
        v.value = new SharedValue(s.value(), s.keys() == null ? List.of() : List.copyOf(s.keys()));
        v.tasks = tasks;
        for (SharedWait w; (w = v.waiters.poll()) != null; ) {
            core.reply(w.clientId(), SharedHolds.handOver(core, w.clientId(), v.value, tasks), w.requestId());
        }
        core.reply(clientId, new Ack(), requestId);
    }

    private void clearValue(V v) {
        if (v.holds != null) {
            v.holds.releaseAll(core);
            v.holds = null;
        }
        v.value = null;
        v.tasks = List.of();
    }

    private V variable(String name) {
        return SharedNames.getOrMake(vars, "variable", name, maxNames, () -> new V(name));
    }

    private void forgetIfIdle(V v) {
        if (v.value == null && v.waiters.isEmpty()) {
            vars.remove(v.name);
        }
    }

    @Override
    public void tick() {
        long now = core.now();
        for (V v : new ArrayList<>(vars.values())) {
            for (Iterator<SharedWait> it = v.waiters.iterator(); it.hasNext(); ) {
                SharedWait w = it.next();
                if (w.expired(now)) {
                    it.remove();
                    core.reply(w.clientId(), new SharedTimedOut("variable '" + v.name + "' was not set"), w.requestId());
                }
            }
            forgetIfIdle(v);
        }
    }

    @Override
    public void clientGone(String clientId) {
        for (V v : new ArrayList<>(vars.values())) {
            v.waiters.removeIf(w -> w.clientId().equals(clientId));
            forgetIfIdle(v);
        }
    }

    /** Every task was forgotten: a value that holds futures is gone with their data; plain values stay. */
    @Override
    public void clusterRestarted(String clientId, String reason) {
        for (V v : new ArrayList<>(vars.values())) {
            if (v.holds != null) {
                v.holds.forget();
            }
            if (!v.tasks.isEmpty()) {
                v.value = null;
                v.tasks = List.of();
                v.holds = null;
                forgetIfIdle(v);
            }
        }
    }

    /** Variables the extension keeps (set, or awaited). */
    int variableCount() {
        return vars.size();
    }

    @Override
    public void validate() {
        for (V v : vars.values()) {
            if (v.value != null && !v.waiters.isEmpty()) {
                throw new IllegalStateException("variable '" + v.name + "' is set but has waiters");
            }
        }
    }
}
