package dist.scheduler;

import java.util.List;

/**
 * Code run inside the scheduler on its events, as dask's {@code SchedulerPlugin}: diagnostics,
 * metrics, audit logs. Every callback runs on the scheduler's owner thread right after the event
 * that caused it, so it must be quick and must not block; a callback that throws is logged and
 * the scheduler carries on. Every method has an empty default, so a plugin overrides only what it needs.
 *
 * <p>Loaded by class name (the class needs a public no-argument constructor and must be on the
 * scheduler's class path):
 * <pre>{@code
 * public class CountTransitions implements SchedulerPlugin {
 *     final AtomicLong n = new AtomicLong();
 *     public void transition(String key, String from, String to) { n.incrementAndGet(); }
 * }
 * // java -cp dist.jar:my-plugins.jar dist.Main scheduler --plugin com.acme.CountTransitions
 * }</pre>
 */
public interface SchedulerPlugin {

    /** Called once, on the owner thread, before any other callback. */
    default void start(SchedulerServer scheduler) {
    }

    /** A client sent new tasks ({@code keys}: the keys of its update, in order). */
    default void updateGraph(String clientId, List<String> keys) {
    }

    /**
     * A task changed state. States: released, waiting, no-worker, processing, memory, erred, forgotten.
     */
    default void transition(String key, String from, String to) {
    }

    /** A task's result is in memory on a worker (its processing-to-memory transition). */
    default void taskFinished(String key) {
    }

    /** A task failed (any transition to erred). */
    default void taskErred(String key) {
    }

    /** A worker registered. */
    default void addWorker(String worker) {
    }

    /** A worker left or was removed. */
    default void removeWorker(String worker) {
    }

    /** A client asked for the cluster to restart. */
    default void restart() {
    }

    /** The scheduler is stopping. */
    default void close() {
    }

    /**
     * Creates the plugin named {@code className} through {@code loader}.
     *
     * @throws IllegalArgumentException naming the class and the fix when it is missing, not a
     *                                  plugin, or has no public no-argument constructor
     */
    static SchedulerPlugin load(String className, ClassLoader loader) {
        if (className == null || className.isBlank()) {
            throw new IllegalArgumentException("--plugin needs a class name, e.g. --plugin com.acme.MyPlugin");
        }
        Class<?> c;
        try {
            c = Class.forName(className.strip(), true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalArgumentException("scheduler plugin class " + className + " cannot be loaded (" + e
                    + "); put its jar on the scheduler's class path (java -cp dist.jar:plugin.jar dist.Main scheduler ...)", e);
        }
        if (!SchedulerPlugin.class.isAssignableFrom(c)) {
            throw new IllegalArgumentException("class " + className + " does not implement "
                    + SchedulerPlugin.class.getName() + "; a scheduler plugin must");
        }
        try {
            return (SchedulerPlugin) c.getConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException("scheduler plugin " + className
                    + " needs a public no-argument constructor", e);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : e;
            throw new IllegalArgumentException("scheduler plugin " + className + " failed to construct: " + cause, cause);
        }
    }
}
