package dist.worker;

import java.util.Collections;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What an actor's constructor and calls run in, so WorkerClient works there as in a task (dask's
 * get_worker and worker_client inside an actor). A call holds no thread slot, so seceding gives none
 * up, and its prints stay on this worker: no client submitted it as a task. The threads running a call
 * now are listed for the profiler, which samples them as it samples tasks.
 */
final class ActorCallContext {
    private final WorkerServer server;
    private final TaskContext.Host host;
    private final ConcurrentHashMap<Thread, String> running = new ConcurrentHashMap<>();

    /** {@code tasks}: the host of the worker's tasks, whose addresses, code and shared objects calls use too. */
    ActorCallContext(WorkerServer server, TaskContext.Host tasks) {
        this.server = server;
        this.host = new TaskContext.Host() {
            @Override
            public void seceded(String key, boolean first) {
            }

            @Override
            public void rejoined(String key) {
            }

            @Override
            public void printed(String key, String text, boolean stderr) {
                (stderr ? System.err : System.out).print(text);
            }

            @Override
            public String schedulerAddress() {
                return tasks.schedulerAddress();
            }

            @Override
            public String workerAddress() {
                return tasks.workerAddress();
            }

            @Override
            public CodeLoaders code() {
                return tasks.code();
            }

            @Override
            public <T extends AutoCloseable> T shared(Class<T> type, java.util.function.Supplier<T> create) {
                return tasks.shared(type, create);
            }

            @Override
            public WorkerServer server() {
                return server;
            }
        };
    }

    /** Runs {@code call} of actor {@code actorId} as this worker's, in a task's context. */
    <T> T run(String actorId, ClassLoader loader, Callable<T> call) throws Exception {
        Thread self = Thread.currentThread();
        TaskContext.enter(new TaskContext(host, actorId, loader));
        running.put(self, actorId);
        try {
            return WorkerServer.runAs(server, call);
        } finally {
            running.remove(self);
            TaskContext.leave();
        }
    }

    /** The threads running an actor's constructor or call now, with the actor's id. */
    Map<Thread, String> running() {
        return Collections.unmodifiableMap(running);
    }
}
