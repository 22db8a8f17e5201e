package dist.worker;

import java.util.function.Supplier;

/**
 * What a running task can learn about where it runs, and how it gives up its thread slot while
 * it waits. Set by the worker on the task's thread for the task's duration; {@link #current()}
 * is null anywhere else. {@code dist.WorkerClient} builds on it.
 *
 * <pre>{@code
 * TaskContext ctx = TaskContext.current();
 * if (ctx != null && ctx.secede()) {      // the slot is free for other tasks
 *     try { waitForSomething(); } finally { ctx.rejoin(); }
 * }
 * }</pre>
 */
public final class TaskContext {
    private static final ThreadLocal<TaskContext> CURRENT = new ThreadLocal<>();

    /** The worker side of a context: how secede and rejoin reach the worker's state machine. */
    interface Host {
        /** {@code first}: the task's thread gives up its slot for the first time (later ones gave up none). */
        void seceded(String key, boolean first);

        void rejoined(String key);

        String schedulerAddress();

        String workerAddress();

        CodeLoaders code();

        <T extends AutoCloseable> T shared(Class<T> type, Supplier<T> create);

        /** Sends what the task printed toward the client that submitted it, after the worker's earlier reports. */
        void printed(String key, String text, boolean stderr);

        /** The worker running the task (for the shuffle's peers and store). */
        WorkerServer server();
    }

    private final Host host;
    private final String key;
    private final ClassLoader loader;
    private boolean seceded;
    private boolean everSeceded;

    TaskContext(Host host, String key, ClassLoader loader) {
        this.host = host;
        this.key = key;
        this.loader = loader;
    }

    /** The context of the task running on this thread, or null outside a task. */
    public static TaskContext current() {
        return CURRENT.get();
    }

    static void enter(TaskContext ctx) {
        CURRENT.set(ctx);
    }

    static void leave() {
        CURRENT.remove();
    }

    /** The running task's key. */
    public String key() {
        return key;
    }

    /** "host:port" of the scheduler the worker belongs to. */
    public String schedulerAddress() {
        return host.schedulerAddress();
    }

    /** This worker's address. */
    public String workerAddress() {
        return host.workerAddress();
    }

    /** The loader the task's classes came from (its client's, over uploaded jars and the class path). */
    public ClassLoader classLoader() {
        return loader;
    }

    /** The class file of a class as this worker has it (defined from a client, from a jar, or on its class path). */
    public byte[] classBytes(String className) {
        return host.code().classBytes(className);
    }

    /**
     * An object shared by every task of this worker, created on first use and closed with the
     * worker (for example the worker's own client).
     */
    public <T extends AutoCloseable> T shared(Class<T> type, Supplier<T> create) {
        return host.shared(type, create);
    }

    /** Prints {@code text} on the client that submitted this task (its standard error with {@code stderr}). */
    public void print(String text, boolean stderr) {
        host.printed(key, text, stderr);
    }

    /** The worker running this task. */
    WorkerServer server() {
        return host.server();
    }

    /** Whether the task gave up its slot at some point (its thread then leaves the worker's pool when it ends). */
    boolean hasSeceded() {
        return everSeceded;
    }

    /** Whether the task has given up its slot and not rejoined yet. */
    public boolean isSeceded() {
        return seceded;
    }

    /**
     * Gives up this task's thread slot so another task can run while this one waits; the task
     * keeps running. Returns false (and does nothing) when already seceded.
     */
    public boolean secede() {
        if (seceded) {
            return false;
        }
        boolean first = !everSeceded;
        seceded = true;
        everSeceded = true;
        host.seceded(key, first);
        return true;
    }

    /** Takes a slot again after {@link #secede()}; does nothing when not seceded. */
    public void rejoin() {
        if (!seceded) {
            return;
        }
        seceded = false;
        host.rejoined(key);
    }
}
