package dist.worker;

import dist.serial.Serializer;

/** What a worker offers its {@link WorkerExtension}s. */
public interface WorkerServices {

    /** This worker's contact address. */
    String address();

    /** The serializer for values going to and from clients. */
    Serializer serializer();

    /** The class loader for user code sent without a client's own loader. */
    ClassLoader loader();

    /**
     * A failure the process cannot be trusted after (out of memory): the worker reports it and
     * stops, as for a task's. {@code doing} says what was under way.
     */
    void fatal(String doing, Throwable t);

    /** The threads running tasks now, by task key (a read-only view that changes as tasks run). */
    java.util.Map<String, Thread> executing();

    /** The threads running an actor's constructor or call now, with the actor's id (a read-only view). */
    default java.util.Map<Thread, String> actorCalls() {
        return java.util.Map.of();
    }

    /** Sends {@code report} to the scheduler after what the worker reported before it. */
    void report(dist.protocol.Message report);

    /** The worker itself, which {@link WorkerServer#current()} answers while a client's function runs. */
    WorkerServer server();
}
