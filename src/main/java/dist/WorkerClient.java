package dist;

import dist.worker.TaskContext;


/**
 * A client for tasks that launch tasks, as dask's {@code get_client()} / {@code worker_client()}.
 * Inside a task, {@link #get()} returns the worker's own client: one connection to the
 * scheduler per worker, made on first use and shared by every task there. While a task waits on
 * {@code result()} or {@code gather} of any client, it secedes (its thread slot runs other tasks)
 * and rejoins when the wait ends, so a recursion deeper than the worker's thread count cannot
 * deadlock.
 *
 * <pre>{@code
 * static long fib(int n) throws Exception {
 *     if (n < 2) return n;
 *     Client c = WorkerClient.get();
 *     Future<Long> a = c.submit(Demo::fib, n - 1);
 *     Future<Long> b = c.submit(Demo::fib, n - 2);
 *     return a.result() + b.result();
 * }
 * }</pre>
 *
 * <p>Classes of the tasks it submits are served from the worker, so sub-tasks find the same code
 * as the task that launched them.
 */
public final class WorkerClient {
    private WorkerClient() {
    }

    /**
     * The worker's client, for use inside a running task.
     *
     * @throws IllegalStateException outside a task (use {@link Client#connect(String)} there)
     * @throws SchedulerUnavailableException when the scheduler cannot be reached
     */
    public static Client get() {
        TaskContext ctx = requireTask("WorkerClient.get()");
        return ctx.shared(Client.class, () -> connect(ctx));
    }

    /**
     * The address of the worker running the calling task, as dask's {@code get_worker().address}:
     * {@code String where = WorkerClient.workerAddress();}
     *
     * @throws IllegalStateException outside a task
     */
    public static String workerAddress() {
        return requireTask("WorkerClient.workerAddress()").workerAddress();
    }

    /** Whether the calling thread runs a task on a worker. */
    public static boolean inTask() {
        return TaskContext.current() != null;
    }

    /**
     * Gives up the calling task's thread slot for a long wait that is not on a future (futures
     * secede by themselves). Returns false when already seceded.
     */
    public static boolean secede() {
        return requireTask("WorkerClient.secede()").secede();
    }

    /** Takes a thread slot again after {@link #secede()}. */
    public static void rejoin() {
        requireTask("WorkerClient.rejoin()").rejoin();
    }

    /** Where {@link #print(Stream, String, String, Object...)} writes on the client. */
    public enum Stream { STDOUT, STDERR }

    /**
     * Prints on the client that submitted the running task, as dask's {@code print}: the arguments'
     * strings joined by a space, then a line end, on the client's standard output. Outside a task it
     * prints here. The text reaches the client before the task's result.
     *
     * <pre>{@code
     * static int load(String day) {
     *     int n = ...;
     *     WorkerClient.print("loaded", n, "rows for", day);   // the client shows: loaded 42 rows for 2024-01-02
     *     return n;
     * }
     * }</pre>
     */
    public static void print(Object... args) {
        print(Stream.STDOUT, null, null, args);
    }

    /**
     * {@link #print(Object...)} with separator {@code sep} and ending {@code end} (null: a space and
     * a line end), on the client's standard output or error.
     */
    public static void print(Stream stream, String sep, String end, Object... args) {
        java.util.Objects.requireNonNull(stream, "stream");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < args.length; i++) {
            if (i > 0) {
                sb.append(sep == null ? " " : sep);
            }
            sb.append(args[i]);
        }
        sb.append(end == null ? "\n" : end);
        TaskContext ctx = TaskContext.current();
        if (ctx != null) {
            ctx.print(sb.toString(), stream == Stream.STDERR);
        } else {
            java.io.PrintStream out = stream == Stream.STDERR ? System.err : System.out;
            out.print(sb);
            out.flush();
        }
    }

    private static TaskContext requireTask(String what) {
        TaskContext ctx = TaskContext.current();
        if (ctx == null) {
            throw new IllegalStateException(what + " works only inside a task running on a worker;"
                    + " elsewhere use Client.connect(\"host:port\")");
        }
        return ctx;
    }

    private static Client connect(TaskContext ctx) {
        Thread self = Thread.currentThread();
        ClassLoader before = self.getContextClassLoader();
        // results decode with the loader of whichever task asks, not the one that made the client
        self.setContextClassLoader(new TaskRoutingLoader(ctx.classLoader()));
        try {
            Client c = Client.connect(ctx.schedulerAddress());
            c.classSource().preferring(ctx::classBytes);
            return c;
        } finally {
            self.setContextClassLoader(before);
        }
    }

    /** Loads through the calling task's loader, or through {@code fallback} outside a task. */
    private static final class TaskRoutingLoader extends ClassLoader {
        static {
            registerAsParallelCapable();
        }

        private final ClassLoader fallback;

        TaskRoutingLoader(ClassLoader fallback) {
            super("dist-task-routing", fallback);
            this.fallback = fallback;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            TaskContext ctx = TaskContext.current();
            return Class.forName(name, false, ctx != null ? ctx.classLoader() : fallback);
        }
    }
}
