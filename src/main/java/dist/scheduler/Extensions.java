package dist.scheduler;

import dist.protocol.Message;

import java.util.Arrays;
import java.util.HashMap;

/**
 * The scheduler's registered {@link SchedulerExtension}s: who answers which message type (one
 * handler per type, checked when registering), and who listens to the per-task notices, kept as
 * arrays so a notice costs a call per listener and nothing for the others.
 */
final class Extensions {
    private static final SchedulerExtension[] NONE = new SchedulerExtension[0];

    private final HashMap<Class<?>, SchedulerExtension> clientRoutes = new HashMap<>();
    private final HashMap<Class<?>, SchedulerExtension> workerRoutes = new HashMap<>();
    /** Every extension, in order of registration. */
    SchedulerExtension[] all = NONE;
    /** Those that asked to see every transition. */
    SchedulerExtension[] watchers = NONE;
    /** Those that listen for tasks leaving their worker. */
    SchedulerExtension[] leavers = NONE;
    /** Those that listen for reported computations. */
    SchedulerExtension[] reporters = NONE;

    /** Adds {@code ext} and starts it with {@code core}. */
    void register(SchedulerExtension ext, SchedulerContext core) {
        java.util.Objects.requireNonNull(ext, "extension");
        for (Class<? extends Message> type : ext.clientMessages()) {
            route(clientRoutes, type, ext, "client");
        }
        for (Class<? extends Message> type : ext.workerMessages()) {
            route(workerRoutes, type, ext, "worker");
        }
        all = append(all, ext);
        if (ext.observesTransitions()) {
            watchers = append(watchers, ext);
        }
        if (overrides(ext, "leavingWorker", TaskState.class)) {
            leavers = append(leavers, ext);
        }
        if (overrides(ext, "computed", WorkerState.class, String.class, long.class, long.class, boolean.class)
                || overrides(ext, "computed", WorkerState.class, String.class, long.class, long.class, int.class,
                long.class, boolean.class)
                || overrides(ext, "computed", WorkerState.class, TaskState.class, String.class, long.class, long.class,
                int.class, long.class, boolean.class)) {
            reporters = append(reporters, ext);
        }
        ext.start(core);
    }

    /** Asks every extension again whether it observes transitions: one's answer changed. */
    void refreshWatchers() {
        SchedulerExtension[] w = NONE;
        for (SchedulerExtension ext : all) {
            if (ext.observesTransitions()) {
                w = append(w, ext);
            }
        }
        watchers = w;
    }

    /** The extension that answers this message from a client, or null (the core does). */
    SchedulerExtension forClient(Message m) {
        return m == null ? null : clientRoutes.get(m.getClass());
    }

    /** The extension that answers this message from a worker, or null (the core does). */
    SchedulerExtension forWorker(Message m) {
        return m == null ? null : workerRoutes.get(m.getClass());
    }

    /** The registered extension of this class, or null. */
    <T extends SchedulerExtension> T find(Class<T> type) {
        for (SchedulerExtension e : all) {
            if (type.isInstance(e)) {
                return type.cast(e);
            }
        }
        return null;
    }

    private static SchedulerExtension[] append(SchedulerExtension[] a, SchedulerExtension ext) {
        SchedulerExtension[] n = Arrays.copyOf(a, a.length + 1);
        n[a.length] = ext;
        return n;
    }

    /** Whether {@code ext} has its own {@code name}: per-task notices go only to those that listen. */
    private static boolean overrides(SchedulerExtension ext, String name, Class<?>... params) {
        try {
            return ext.getClass().getMethod(name, params).getDeclaringClass() != SchedulerExtension.class;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("SchedulerExtension." + name + " is gone", e);
        }
    }

    private static void route(HashMap<Class<?>, SchedulerExtension> routes, Class<? extends Message> type,
                              SchedulerExtension ext, String from) {
        SchedulerExtension had = routes.putIfAbsent(type, ext);
        if (had != null) {
            throw new IllegalStateException(ext.name() + " and " + had.name() + " both handle "
                    + type.getSimpleName() + " from a " + from + "; one message type has one handler");
        }
    }
}
