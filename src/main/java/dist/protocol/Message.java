package dist.protocol;

import dist.serial.Encoded;

import java.util.List;
import java.util.Map;

/**
 * Every message the scheduler, workers and clients exchange. A message is a record; byte[]
 * fields hold user payloads (serialized functions, arguments, results, exceptions) that the
 * scheduler stores and forwards without decoding. Large byte[] fields travel as frames of their
 * own (see {@link MessageCodec}).
 *
 * <p>Keys are strings. Worker identity is the worker's contact address ("host:port").
 */
public sealed interface Message {

    // ---------------------------------------------------------------- client -> scheduler

    /** First message of a client connection. */
    record RegisterClient(String clientId) implements Message {}

    /** New tasks, and the keys this client wants (holds futures for). */
    record UpdateGraph(String clientId, List<TaskSpec> tasks, List<String> wanted) implements Message {}

    /** The client holds no future for these keys any more. */
    record ReleaseKeys(String clientId, List<String> keys) implements Message {}

    /** Run these erred keys again, with the erred tasks they depend on; a want for them follows. */
    record RetryKeys(String clientId, List<String> keys) implements Message {}

    /** Cancel these keys and everything that depends on them. */
    record CancelKeys(String clientId, List<String> keys, boolean force) implements Message {}

    /** Request: where are these keys held? Answered by {@link WhoHasReply}. */
    record WhoHasRequest(List<String> keys) implements Message {}

    record WhoHasReply(Map<String, List<String>> whoHas) implements Message {}

    /** Request: the cluster's workers. Answered by {@link WorkersReply}. */
    record WorkersRequest() implements Message {}

    record WorkersReply(List<WorkerInfo> workers) implements Message {}

    /** Client -> scheduler (a request): the scheduler's {@link Versions}. Answered by {@link VersionsReply}. */
    record VersionsRequest() implements Message {}

    record VersionsReply(Map<String, String> versions) implements Message {}

    /**
     * Client -> scheduler (a request): the recipe of {@code key} as workers receive it, to run it in the
     * client ({@code recreate_task_locally}). Answered by {@link TaskRunReply}, or {@link ErrorReply}
     * when the scheduler has no recipe for the key.
     */
    record TaskRunRequest(String key) implements Message {}

    /** {@code run}: the task's call bytes; {@code deps}: the keys its arguments refer to. */
    record TaskRunReply(String key, byte[] run, List<String> deps) implements Message {}

    /** A worker as clients and tools see it. */
    record WorkerInfo(String address, String name, int nthreads, long memoryLimit, long pid,
                      long memoryBytes, int processing, int keysHeld, Map<String, Double> metrics,
                      Map<String, String> startup) {
        public WorkerInfo(String address, String name, int nthreads, long memoryLimit, long pid,
                          long memoryBytes, int processing, int keysHeld) {
            this(address, name, nthreads, memoryLimit, pid, memoryBytes, processing, keysHeld, Map.of(), Map.of());
        }
    }

    // ---------------------------------------------------------------- scheduler -> client

    /** A wanted key is in memory on these workers; small results come inline in {@code value}. */
    record KeyInMemory(String key, List<String> whoHas, long nbytes, byte[] value) implements Message {}

    /**
     * A wanted key failed: {@code exception} is the serialized exception, {@code summary} a
     * readable one-line form, {@code causeKey} the key whose task raised it (itself, or a dependency).
     */
    record KeyErred(String key, byte[] exception, String summary, String causeKey) implements Message {}

    /** A wanted key was cancelled or can no longer be computed. */
    record KeyCancelled(String key, String reason) implements Message {}

    // ---------------------------------------------------------------- worker -> scheduler

    /** First message of a worker connection; {@code heldKeys} are keys it already holds. */
    record RegisterWorker(String address, String name, int nthreads, long memoryLimit, long pid,
                          Map<String, Long> heldKeys) implements Message {}

    /** The scheduler's answer to {@link RegisterWorker}. */
    record WorkerAccepted(String schedulerId, long heartbeatIntervalMillis) implements Message {}

    record Heartbeat(long memoryBytes, int executing, int ready, int inMemory) implements Message {}

    /**
     * A task ran; its result stays on the worker. Small results also travel inline. {@code thread} is the
     * worker's slot that ran it (0 to nthreads - 1), for the task stream.
     */
    record TaskFinished(String key, long nbytes, String typeName, long startNanos, long stopNanos,
                        byte[] value, int thread) implements Message {
        /** A report that names slot 0. */
        public TaskFinished(String key, long nbytes, String typeName, long startNanos, long stopNanos, byte[] value) {
            this(key, nbytes, typeName, startNanos, stopNanos, value, 0);
        }
    }

    /** A task threw; {@code thread} as in {@link TaskFinished}. */
    record TaskErred(String key, byte[] exception, String summary, long startNanos, long stopNanos, int thread)
            implements Message {
        /** A report that names slot 0. */
        public TaskErred(String key, byte[] exception, String summary, long startNanos, long stopNanos) {
            this(key, exception, summary, startNanos, stopNanos, 0);
        }
    }

    /** A peer that the scheduler said holds {@code key} did not have it. */
    record MissingData(String key, String worker) implements Message {}

    /** The worker now holds these keys too (replicas fetched from peers). */
    record AddKeys(Map<String, Long> nbytes) implements Message {}

    /** The worker no longer holds these keys. */
    record KeysReleased(List<String> keys) implements Message {}

    // ---------------------------------------------------------------- scheduler -> worker

    /**
     * Run a task. {@code whoHas} maps each dependency key to the workers that hold it;
     * {@code nbytes} gives their sizes; {@code clientId} (nullable) is the client that submitted it,
     * whose classes the worker may ask for when it cannot load one.
     *
     * <p>{@code announceStart} says what the scheduler assumes: true, that the task waits in the
     * worker's queue, so the worker sends {@link TasksStarted} before it starts it; false, that the
     * task starts at once (a free thread, inputs at hand), so the worker's death counts against it
     * unless the worker says {@link TasksQueued}. A task sent to an idle worker then starts without
     * a message on the way.
     *
     * <p>{@code resources} (null: none) are what the task holds while it runs on the worker; the
     * worker starts it only when they are free there. {@code span} (null: none) is the innermost span the
     * task was submitted in: the worker counts the task's time in it (see {@link FineMetrics}).
     */
    record ComputeTask(String key, byte[] run, Map<String, List<String>> whoHas, Map<String, Long> nbytes,
                       long priority, String clientId, boolean announceStart, Map<String, Double> resources,
                       String span) implements Message {
        /** A task submitted in no span. */
        public ComputeTask(String key, byte[] run, Map<String, List<String>> whoHas, Map<String, Long> nbytes,
                           long priority, String clientId, boolean announceStart, Map<String, Double> resources) {
            this(key, run, whoHas, nbytes, priority, clientId, announceStart, resources, null);
        }

        /** A task that needs no resources. */
        public ComputeTask(String key, byte[] run, Map<String, List<String>> whoHas, Map<String, Long> nbytes,
                           long priority, String clientId, boolean announceStart) {
            this(key, run, whoHas, nbytes, priority, clientId, announceStart, null);
        }

        /** A task assumed queued: the worker announces it before it starts. */
        public ComputeTask(String key, byte[] run, Map<String, List<String>> whoHas, Map<String, Long> nbytes,
                           long priority, String clientId) {
            this(key, run, whoHas, nbytes, priority, clientId, true);
        }

        /** A task with no known submitter: its classes come from the worker's own class path and jars. */
        public ComputeTask(String key, byte[] run, Map<String, List<String>> whoHas, Map<String, Long> nbytes,
                           long priority) {
            this(key, run, whoHas, nbytes, priority, null);
        }
    }

    /** Drop these keys (data, or queued tasks). */
    record FreeKeys(List<String> keys) implements Message {}

    /** Stop the worker; sent to a nanny, stop the nanny and its worker. */
    record CloseWorker(String reason) implements Message {}

    /**
     * Worker to scheduler: it closes on purpose (not a crash). It leaves the cluster at once, and the
     * tasks it was running go elsewhere without counting its exit as a death.
     */
    record WorkerClosing(String reason) implements Message {}

    // ---------------------------------------------------------------- peer <-> worker, client <-> worker

    /** Request: the values of these keys. Answered by {@link DataReply}; absent keys are left out. */
    record GetData(List<String> keys) implements Message {}

    /** The values found, each in parts, so its large arrays travel as frames of their own, uncopied. */
    record DataReply(Map<String, Encoded> data) implements Message {}

    // ---------------------------------------------------------------- whole-cluster operations

    /** Client -> scheduler: stop the scheduler and every worker. */
    record ShutdownCluster() implements Message {}

    // ---------------------------------------------------------------- nannies and worker deaths

    /** Nanny -> scheduler: the worker it watched died; {@code reason} says how (exit code, signal, memory). */
    record WorkerDied(String worker, String reason) implements Message {}

    /**
     * Nanny -> scheduler: first message of a nanny connection, and again whenever its worker changes;
     * {@code worker} is the address of the worker it runs now (null while none runs).
     */
    record RegisterNanny(String nannyId, String worker) implements Message {}

    /** Scheduler -> nanny: stop the worker and start a fresh one. */
    record RestartWorker(String reason) implements Message {}

    /**
     * Client -> scheduler (a request): cancel every future of every client, forget every task and
     * restart every worker through its nanny. Answered by {@link Ack} once the old workers are gone.
     */
    record RestartCluster(String clientId) implements Message {}

    /**
     * Client -> scheduler (a request): restart these workers (address, host or name) through their
     * nannies; tasks are kept. Answered by {@link Ack} once the old workers are removed, or by
     * {@link ErrorReply}, changing nothing, when one has no nanny or none matches.
     */
    record RestartWorkers(List<String> workers) implements Message {}

    /**
     * Worker -> scheduler: these tasks began executing (not merely queued). Only tasks executing on a
     * worker when it dies count as suspicious. Written before the tasks start, for tasks the scheduler
     * sent as queued ({@code ComputeTask.announceStart}).
     */
    record TasksStarted(List<String> keys) implements Message {}

    /**
     * Worker -> scheduler: these tasks, sent as starting at once, wait here instead (no free thread,
     * inputs to fetch); the worker's death no longer counts against them, and a {@link TasksStarted}
     * comes before they start.
     */
    record TasksQueued(List<String> keys) implements Message {}

    // ---------------------------------------------------------------- data placement and code

    /** Client or peer -> worker: store these values (scatter, replication). Answered by {@link Ack}. */
    record PutData(Map<String, Encoded> data) implements Message {}

    /**
     * Scheduler -> worker (one-way): get these keys from the peers named for each (first one that
     * answers) and keep them (replicate, rebalance). The worker reports the copies with
     * {@link AddKeys}, then one-way {@link AcquireReply}; asked as a request, it answers with the latter.
     */
    record AcquireData(Map<String, List<String>> sources) implements Message {}

    /** Which keys arrived ({@code nbytes}) and which could not be had from any source ({@code missing}). */
    record AcquireReply(Map<String, Long> nbytes, List<String> missing) implements Message {}

    /** Client -> scheduler: let these workers drop their copies of these keys (key -> workers). Answered by {@link Ack}. */
    record DropReplicas(Map<String, List<String>> workersByKey) implements Message {}

    /**
     * Client -> scheduler: which workers should store these keys' values (scatter)? The scheduler
     * picks among the workers matching {@code workers} (address, host or name; empty: all), leaving
     * out {@code avoid} (workers that failed to store them), and answers {@link ScatterPlan}; the
     * client then sends the values to those workers itself, so data never passes through the
     * scheduler. With no worker at all it waits up to {@code timeoutMillis} for one. Refused
     * ({@link ErrorReply}) when {@code workers} names no connected worker.
     */
    record ScatterRequest(List<String> keys, List<String> workers, List<String> avoid, long timeoutMillis)
            implements Message {}

    /** Worker address to the keys it should store; empty when no worker joined in time. */
    record ScatterPlan(Map<String, List<String>> keysByWorker) implements Message {}

    /**
     * Client -> scheduler: make each key held by {@code n} of {@code workers} (n 0 or less: all of
     * them; workers empty: all), copying in generations where each holder gives to at most
     * {@code branching} new workers and dropping copies beyond n (never the last). Keys not in memory
     * yet are waited for. Answered by {@link Ack} once the scheduler lists the copies, or by
     * {@link ErrorReply} naming what failed, at the latest after {@code timeoutMillis}.
     */
    record ReplicateRequest(List<String> keys, int n, List<String> workers, int branching, long timeoutMillis)
            implements Message {}

    /**
     * Client -> scheduler: even out the bytes held by {@code workers} (empty: all) by moving
     * {@code keys} (empty: any key) from the fullest to the emptiest; a moved copy is dropped once its
     * new holder is listed. Keys not in memory yet are waited for. Answered by {@link Ack}, or by
     * {@link ErrorReply} naming the keys that could not move, at the latest after {@code timeoutMillis}.
     */
    record RebalanceRequest(List<String> keys, List<String> workers, long timeoutMillis) implements Message {}

    /**
     * Client -> scheduler: close {@code workers} (addresses, hosts or names; when empty, the {@code n}
     * least busy workers holding the least data) gracefully: they take no new task, finish what they
     * run, every result only they hold is copied to other workers with room, then they close.
     * Answered by {@link RetireReply}: what the scheduler knew of each worker retired, and why each
     * other one stays (no receiver, no room, the deadline {@code timeoutMillis} passed).
     */
    record RetireRequest(List<String> workers, int n, long timeoutMillis) implements Message {}

    record RetireReply(List<WorkerInfo> retired, Map<String, String> kept) implements Message {}

    /** Client -> scheduler: the keys each worker holds ({@code workers} empty: all). Answered by {@link HasWhatReply}. */
    record HasWhatRequest(List<String> workers) implements Message {}

    record HasWhatReply(Map<String, List<String>> hasWhat) implements Message {}

    /** Client -> scheduler: stored sizes of these keys ({@code keys} empty: every key in memory). Answered by {@link NbytesReply}. */
    record NbytesRequest(List<String> keys) implements Message {}

    record NbytesReply(Map<String, Long> nbytes) implements Message {}

    /** Client -> worker: run this serialized call ({@code TaskCall}) now, outside the task system. Answered by {@link RunReply}. */
    record RunFunction(byte[] call) implements Message {}

    /** The serialized result, or the serialized exception when the call threw ({@code value} null then). */
    record RunReply(byte[] value, byte[] exception, String summary) implements Message {}

    /**
     * Client to worker: forward the records a task logs to {@code logger} (a java.util.logging name;
     * "" the root) at {@code level} or above to client {@code clientId}; {@code on} false stops it.
     * Answered by {@link Ack}.
     */
    record ForwardLogging(String clientId, String logger, int level, boolean on) implements Message {}

    /** Worker to scheduler: a record a task logged, for client {@code clientId}. */
    record TaskLog(String clientId, String logger, int level, String text) implements Message {}

    /** Scheduler to client: a record one of the cluster's tasks logged, to log again here. */
    record Logged(String logger, int level, String text) implements Message {}

    /**
     * Client to scheduler: stores {@code value} (serialized, kept opaque) at the path {@code keys} of
     * the cluster's metadata; maps are made along the path. Answered by {@link Ack}.
     */
    record SetMetadata(List<String> keys, byte[] value) implements Message {}

    /** Client to scheduler: the metadata at the path {@code keys}. Answered by {@link MetadataReply}. */
    record GetMetadata(List<String> keys) implements Message {}

    /**
     * {@code outcome} is "found" (then the values under the path, each at its path below it; one with
     * an empty path when the path holds a value), "missing", or "not-a-map" (a value sits on the path
     * at {@code depth}, where a map was needed).
     */
    record MetadataReply(String outcome, int depth, List<List<String>> paths, List<byte[]> values) implements Message {}

    /** Worker to scheduler: text a running task printed, for the client that submitted it. */
    record TaskPrint(String key, String text, boolean stderr) implements Message {}

    /** Scheduler to client: text one of its tasks printed, to write on its standard output (or error). */
    record Printed(String text, boolean stderr) implements Message {}

    /** Client to scheduler or worker: its newest {@code n} log records (all with n below 1). */
    record LogsRequest(int n) implements Message {}

    /** Log records, newest first, field by field: epoch millis, level name, logger name, message. */
    record LogsReply(List<Long> millis, List<String> levels, List<String> loggers, List<String> messages)
            implements Message {}

    /**
     * Client to scheduler: the newest {@code n} log records of the nannies of these workers (addresses;
     * empty: every worker with a nanny), each asked by the scheduler with a {@link LogsRequest}.
     * Answered by {@link NannyLogsReply}.
     */
    record NannyLogsRequest(List<String> workers, int n) implements Message {}

    /** The log of each worker's nanny, in the order of {@code workers}; nannies that did not answer are left out. */
    record NannyLogsReply(List<String> workers, List<LogsReply> logs) implements Message {}

    /** Client to worker: the stacks of the threads running these keys (all running tasks with {@code all}). */
    record CallStackRequest(List<String> keys, boolean all) implements Message {}

    /** The frames of each running task asked for, innermost first. */
    record CallStackReply(Map<String, List<String>> stacks) implements Message {}

    /** Worker -> scheduler, after {@link WorkerAccepted}: abstract resources it offers, e.g. {@code GPU=2}. */
    record WorkerResources(Map<String, Double> resources) implements Message {}

    /**
     * Worker -> scheduler: names and values (text) a worker plugin set on task {@code key}
     * (dask's TaskState.metadata), merged into what the scheduler keeps for it until it is forgotten.
     */
    record TaskMetadataUpdate(String key, Map<String, String> values) implements Message {}

    /**
     * Client -> scheduler: the metadata and states of {@code keys} now; or, with {@code collector} set, start
     * ({@code start}) or stop collecting those of the tasks submitted meanwhile (dask's get_task_metadata).
     * Answered by {@link TaskMetadataReply} (Ack for a start).
     */
    record TaskMetadataRequest(List<String> keys, String collector, boolean start) implements Message {}

    /** Per key, its metadata and its state ("memory", "erred", ...; "forgotten" once the scheduler let it go). */
    record TaskMetadataReply(Map<String, Map<String, String>> metadata, Map<String, String> states) implements Message {}

    /**
     * Client -> scheduler: the cluster's state for a dump file (dask's dump_cluster_state), its task records
     * without the fields named in {@code exclude}; answered by {@link ClusterStateDump}. Scheduler -> worker:
     * the same for one worker, answered by {@link WorkerStateDump}.
     */
    record ClusterStateRequest(List<String> exclude) implements Message {}

    /**
     * The scheduler's state and each answering worker's, by address, as maps of plain values (text,
     * numbers, lists, maps); never a task's recipe or value.
     */
    record ClusterStateDump(Map<String, Object> scheduler, Map<String, Object> workers) implements Message {}

    /** A worker's state for {@link ClusterStateRequest}: its address, figures and task records. */
    record WorkerStateDump(Map<String, Object> state) implements Message {}

    /**
     * Worker -> scheduler: the values of its own metrics now and what its startup functions gave, as
     * text (dask's {@code Worker(metrics=..., startup_information=...)}); sent after registering and
     * about once a second while it has metrics. Each replaces the last.
     */
    record WorkerCustomMetrics(Map<String, Double> metrics, Map<String, String> startup) implements Message {}

    /** Scheduler -> worker: give task {@code key} back if it has not started executing. */
    record StealRequest(String key) implements Message {}

    /** Worker -> scheduler: {@code accepted} means the task was dropped here unexecuted; otherwise it runs here. */
    record StealResponse(String key, boolean accepted) implements Message {}

    /**
     * Client -> scheduler: the scheduler's state of these keys. Answered by {@link TaskStatusReply}:
     * for each known key its state ("waiting", "no-worker", "processing", "memory", "erred", "released"),
     * and for keys in no-worker a reason in words.
     */
    record TaskStatusRequest(List<String> keys) implements Message {}

    record TaskStatusReply(Map<String, String> states, Map<String, String> reasons) implements Message {}

    /**
     * Client -> scheduler: publish {@code keys} under {@code name}; {@code shape} is opaque bytes the
     * client decodes back (which futures, in what collection). Answered by {@link Ack} or {@link ErrorReply}.
     */
    record PublishDataset(String name, List<String> keys, byte[] shape, boolean override) implements Message {}

    /**
     * Client -> scheduler: publish several datasets at once, all or none (one {@link ErrorReply}
     * names every name that exists already, without {@code override}). Answered by {@link Ack}.
     */
    record PublishDatasets(List<PublishDataset> datasets, boolean override) implements Message {}

    /** Client -> scheduler. Answered by {@link DatasetReply}, or {@link ErrorReply} when no dataset has that name. */
    record GetDataset(String name) implements Message {}

    record DatasetReply(String name, List<String> keys, byte[] shape) implements Message {}

    /** Client -> scheduler. Answered by {@link DatasetNames}. */
    record ListDatasets() implements Message {}

    record DatasetNames(List<String> names) implements Message {}

    /** Client -> scheduler. Answered by {@link Ack}, also when no dataset has that name (unpublishing is idempotent). */
    record UnpublishDataset(String name) implements Message {}

    /** Client -> scheduler (one-way): keep these tasks until they finish or fail, whoever releases them. */
    record FireAndForget(List<String> keys) implements Message {}

    /**
     * Worker -> scheduler (request, answered by {@link ClassBytes}) and scheduler -> client (one-way):
     * the class file of {@code className} as client {@code clientId} loads it.
     */
    record ClassRequest(String clientId, String className) implements Message {}

    /**
     * Client -> scheduler (one-way answer to a {@link ClassRequest}) and scheduler -> worker (reply).
     * {@code bytes} is the class file, or null when the client has no such class.
     */
    record ClassBytes(String clientId, String className, byte[] bytes) implements Message {}

    /**
     * Client -> scheduler (request, answered by {@link Ack} once every current worker has it) and
     * scheduler -> worker (request or one-way): a jar whose classes the tasks of client {@code clientId}
     * may use. The scheduler fills {@code clientId} with the sender's own registered id, whatever it says.
     */
    record UploadJar(String name, byte[] bytes, String clientId) implements Message {
        /** A client's upload: the scheduler knows who sent it. */
        public UploadJar(String name, byte[] bytes) {
            this(name, bytes, null);
        }
    }

    /**
     * Scheduler -> worker (one-way): client {@code clientId} has left; the worker drops its class loader
     * (its classes and uploaded jars), which tasks still running keep alive until they end.
     */
    record ForgetClient(String clientId) implements Message {}

    /**
     * Worker -> scheduler: the running task {@code key} gave up its thread slot to wait on other
     * tasks (a task that launches tasks); it no longer counts toward the worker's saturation.
     */
    record TaskSeceded(String key) implements Message {}

    // ---------------------------------------------------------------- dashboard and operability

    /**
     * Worker -> scheduler, about once a second: process CPU use (percent of one core), memory in
     * use, the transfer-time histogram so far ({@code transferBuckets[i]}: fetches that took up to
     * {@link #TRANSFER_BUCKETS}{@code [i]} seconds, the last entry the rest), and the fetches that
     * ended since the previous report (peer, start and stop in epoch microseconds, bytes).
     */
    record WorkerStats(double cpuPercent, long memoryBytes, List<Long> transferBuckets, long transferCount,
                       double transferSeconds, long transferBytes, List<String> peers, List<Long> startMicros,
                       List<Long> stopMicros, List<Long> sizes) implements Message {
        /** Upper bounds of the transfer-time buckets, in seconds. */
        public static final List<Double> TRANSFER_BUCKETS = List.of(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0);
    }

    /**
     * Client -> scheduler and scheduler -> worker: what happened to task {@code key}. Answered by
     * {@link StoryReply}; the scheduler's answer includes what every worker answered it.
     */
    record StoryRequest(String key) implements Message {}

    /**
     * A task's story, one step per index: where it happened ("scheduler" or a worker address), what
     * happened ("waiting -> processing", "fetched from 10.0.0.2:4000"), when (epoch microseconds),
     * and a detail (a worker, a size, an error; empty when none).
     */
    record StoryReply(List<String> where, List<String> events, List<Long> epochMicros, List<String> details)
            implements Message {}

    /** Client -> scheduler: where the dashboard is. Answered by {@link DashboardLink}. */
    record DashboardLinkRequest() implements Message {}

    /** The dashboard's address ("http://host:port/status"), or null when this scheduler serves none. */
    record DashboardLink(String url) implements Message {}

    // ---------------------------------------------------------------- generic

    /** Several messages sent as one. */
    record Batch(List<Message> messages) implements Message {}

    /** A successful answer without content. */
    record Ack() implements Message {}

    /** A request could not be served; {@code message} says why. */
    record ErrorReply(String message) implements Message {}

    /** Connection liveness probe; answered with the same message. */
    record Ping(long nonce) implements Message {}

    // ---------------------------------------------------------------- locks, multi-locks, semaphores

    /**
     * Client -> scheduler: {@code lease} wants one permit of each of {@code names} at once ({@code kind}
     * "lock": one permit each, made on first use; "semaphore": a created semaphore, one name), waiting
     * at most {@code timeoutNanos} (0: try once). {@code count}: how many of {@code names} it needs,
     * any of them (dask's {@code num_locks}); 0: all. Answered by {@link LockGranted} when granted or
     * when the wait ends; {@link ErrorReply} when refused (unknown semaphore, too many waiters).
     */
    record LockAcquire(String kind, List<String> names, String lease, long timeoutNanos, int count) implements Message {
        /** Needing all of {@code names}. */
        public LockAcquire(String kind, List<String> names, String lease, long timeoutNanos) {
            this(kind, names, lease, timeoutNanos, 0);
        }
    }

    /** Whether the {@link LockAcquire} of {@code lease} was granted (false: its wait ended first). */
    record LockGranted(String lease, boolean granted) implements Message {}

    /** Client -> scheduler: {@code lease} lets go of what it holds, or stops waiting. Answered by {@link LockReleased}. */
    record LockRelease(String lease) implements Message {}

    /** Whether the released lease held anything (false: it had expired or never was granted). */
    record LockReleased(String lease, boolean held) implements Message {}

    /** Client -> scheduler: these leases are alive; each lasts the lease timeout from now. Answered by {@link Ack}. */
    record LockRenew(List<String> leases) implements Message {}

    /** Client -> scheduler: the client closes; everything it holds or waits for is let go now. Answered by {@link Ack}. */
    record LockReleaseAll() implements Message {}

    /** Client -> scheduler: a semaphore of {@code permits}; the same again is fine, another count is refused. Answered by {@link Ack}. */
    record SemaphoreCreate(String name, int permits) implements Message {}

    /** Client -> scheduler: how many permits of semaphore {@code name} are held now. Answered by {@link SharedCount} or {@link ErrorReply}. */
    record SemaphoreValue(String name) implements Message {}

    /**
     * Client -> scheduler: forget semaphore {@code name}; its holds and waits end (a wait answers not
     * granted). Answered by {@link SharedCount}: the holds and waits it ended.
     */
    record SemaphoreClose(String name) implements Message {}

    // ---------------------------------------------------------------- actors

    /**
     * Client -> scheduler: place actor {@code actorId}, built on a worker by {@code constructor}
     * (opaque bytes the scheduler keeps to build it again on another worker, at most
     * {@code restarts} times). {@code at}: the worker it lives on already, told to a scheduler that
     * came back (nothing is built); null for a new actor. Answered by {@link ActorPlaced}.
     */
    record CreateActor(String actorId, String name, byte[] constructor, List<String> workers,
                       boolean allowOtherWorkers, Map<String, Double> resources, int restarts,
                       boolean concurrent, String at) implements Message {}

    /** Where actor {@code actorId} lives now; {@code generation} counts its restarts. */
    record ActorPlaced(String actorId, String worker, int generation) implements Message {}

    /** Client -> scheduler: where actor {@code actorId} lives. Answered by {@link ActorPlaced} or an error saying why none. */
    record WhereActor(String actorId) implements Message {}

    /** Client -> scheduler: the client let go of actor {@code actorId}; its worker drops it. */
    record ReleaseActor(String actorId) implements Message {}

    /** Scheduler -> worker: build and keep actor {@code actorId}. */
    record StartActor(String actorId, String name, byte[] constructor, boolean concurrent, int generation)
            implements Message {}

    /** Scheduler -> worker: drop actor {@code actorId}. */
    record StopActor(String actorId) implements Message {}

    /** Caller -> worker: run {@code call} (a function of the actor, opaque bytes) on actor {@code actorId}. Answered by {@link RunReply}. */
    record ActorCall(String actorId, byte[] call) implements Message {}

    // ---------------------------------------------------------------- events, variables, queues, topics

    /**
     * Client -> scheduler: put {@code value} (opaque bytes; {@code keys} are the futures inside it,
     * kept alive while it is queued) on queue {@code name}, made with {@code maxSize} (0: up to the
     * configured limit) if new; waits up to {@code timeoutMillis} for room. {@code waitId} names the
     * wait for {@link SharedCancelWait}. Answered by {@link Ack}, {@link SharedTimedOut} or {@link ErrorReply}.
     */
    record QueuePut(String name, int maxSize, byte[] value, List<String> keys, long timeoutMillis, long waitId)
            implements Message {}

    /** Client -> scheduler: take the oldest item, waiting up to {@code timeoutMillis}. Answered by {@link SharedValue} or {@link SharedTimedOut}. */
    record QueueTake(String name, int maxSize, long timeoutMillis, long waitId) implements Message {}

    /** Client -> scheduler: take up to {@code max} items without waiting. Answered by {@link SharedValues}. */
    record QueueDrain(String name, int max) implements Message {}

    /** Client -> scheduler: how many items queue {@code name} holds. Answered by {@link SharedCount}. */
    record QueueSizeRequest(String name) implements Message {}

    /** Client -> scheduler, one way: the caller stopped waiting (interrupted); drop wait {@code waitId} of {@code name}. */
    record SharedCancelWait(String name, long waitId) implements Message {}

    /**
     * A value as its client encoded it, with the keys of the futures inside it. Handed to a reader,
     * {@code known} carries the state of those keys then ({@link KeyInMemory}, {@link KeyErred}), so
     * its futures know their status as they arrive; empty as stored.
     */
    record SharedValue(byte[] value, List<String> keys, List<Message> known) implements Message {
        /** As stored: no states. */
        public SharedValue(byte[] value, List<String> keys) {
            this(value, keys, List.of());
        }
    }

    /** Several values, oldest first. */
    record SharedValues(List<SharedValue> values) implements Message {}

    /** A wait ended at its deadline; {@code what} says what was missing. */
    record SharedTimedOut(String what) implements Message {}

    /** A count. */
    record SharedCount(long count) implements Message {}

    /** A yes or no. */
    record SharedFlag(boolean value) implements Message {}

    /** Client -> scheduler: set event {@code name}, waking its waiters. Answered by {@link Ack}. */
    record EventSet(String name) implements Message {}

    /** Client -> scheduler: clear event {@code name}. Answered by {@link Ack}. */
    record EventClear(String name) implements Message {}

    /** Client -> scheduler: wait up to {@code timeoutMillis} for event {@code name} to be set. Answered by {@link SharedFlag}. */
    record EventWait(String name, long timeoutMillis) implements Message {}

    /** Client -> scheduler: whether event {@code name} is set. Answered by {@link SharedFlag}. */
    record EventIsSet(String name) implements Message {}

    /** Client -> scheduler: variable {@code name} holds {@code value} (and keeps {@code keys} alive). Answered by {@link Ack}. */
    record VariableSet(String name, byte[] value, List<String> keys) implements Message {}

    /** Client -> scheduler: the value of {@code name}, waiting up to {@code timeoutMillis} for one. Answered by {@link SharedValue} or {@link SharedTimedOut}. */
    record VariableGet(String name, long timeoutMillis) implements Message {}

    /** Client -> scheduler: whether variable {@code name} holds a value. Answered by {@link SharedFlag}. */
    record VariableIsSet(String name) implements Message {}

    /** Client -> scheduler: forget variable {@code name} and let its futures go. Answered by {@link Ack}. */
    record VariableDelete(String name) implements Message {}

    /** Client -> scheduler, one way: record {@code message} (opaque bytes) under {@code topic}, sent at {@code epochMillis}. */
    record LogEvent(String topic, long epochMillis, byte[] message) implements Message {}

    /** Client -> scheduler: start ({@code on}) or stop sending this client the events of {@code topic}. Answered by {@link Ack} (none when sent one way). */
    record SubscribeTopic(String topic, boolean on) implements Message {}

    /** Scheduler -> client: an event of a topic it subscribed to. */
    record TopicEvent(String topic, long epochMillis, byte[] message) implements Message {}

    /** Client -> scheduler: the recent events of {@code topic}. Answered by {@link TopicEvents}. */
    record GetTopicEvents(String topic) implements Message {}

    /** The recent events of a topic, oldest first. */
    record TopicEvents(List<TopicEvent> events) implements Message {}

    // ---------------------------------------------------------------- adaptive clusters

    /**
     * Client -> scheduler: how many workers the scheduler wants now, as dask's
     * {@code adaptive_target}, for a cluster kept within [{@code minimum}, {@code maximum}] workers
     * ({@code maximum} -1: no bound). Answered by {@link AdaptiveTarget}.
     */
    record AdaptiveTargetRequest(long targetDurationMillis, int minimum, int maximum) implements Message {}

    /**
     * The scheduler's wanted worker count ({@code target}, not clamped), the names of the workers it
     * would close to bring the cluster down to the clamped target (empty when that is not below the
     * current count), as dask's {@code workers_to_close}, and the names of the workers registered now.
     */
    record AdaptiveTarget(int target, List<String> toClose, List<String> workers) implements Message {}
    // Worker and nanny plugins: user code the scheduler keeps as bytes (never decoded there) and hands to every
    // current and later worker (or nanny)

    /**
     * Client -> scheduler: keep plugin {@code name} ({@code plugin}: its encoded object) and set it up on every
     * worker ({@code nanny}: every nanny), now and as they join; one of the same name is replaced. Answered by
     * {@link Ack} once every current one ran its setup, else by {@link PluginFailed} or {@link ErrorReply}.
     */
    record RegisterPlugin(String name, byte[] plugin, boolean nanny) implements Message {}

    /** Client -> scheduler: drop plugin {@code name}, tearing it down everywhere. Answered by {@link Ack} or {@link ErrorReply}. */
    record UnregisterPlugin(String name) implements Message {}

    /**
     * Scheduler -> worker or nanny: set plugin {@code name} up (tearing down one of that name first); its
     * classes come from client {@code clientId}. Answered, one way, by {@link PluginDone} with {@code seq}.
     */
    record SetupPlugin(String name, byte[] plugin, String clientId, long seq) implements Message {}

    /** Scheduler -> worker or nanny: tear plugin {@code name} down and drop it. Answered by {@link PluginDone} with {@code seq}. */
    record TeardownPlugin(String name, long seq) implements Message {}

    /** Worker or nanny -> scheduler: a setup or teardown ended; {@code error} (encoded) and {@code summary} when it threw. */
    record PluginDone(String name, long seq, byte[] error, String summary) implements Message {}

    /** Scheduler -> client: a plugin's setup threw on {@code where}; the first such error, encoded, and how many failed. */
    record PluginFailed(String name, String where, byte[] error, String summary, int failures) implements Message {}

    /**
     * Nanny -> scheduler: send this nanny every nanny plugin now and later. Answered by {@link NannyPlugins}
     * with those there now (sent one way, each as a {@link SetupPlugin}, when no answer is awaited).
     */
    record WatchNannyPlugins() implements Message {}

    /** The nanny plugins a scheduler holds, in registration order, to set up before the nanny's worker starts. */
    record NannyPlugins(List<SetupPlugin> plugins) implements Message {}
    // ---------------------------------------------------------------- worker status, retirement, active memory manager

    /**
     * Worker -> scheduler, one-way: it paused ({@code "paused"}: memory past its pause fraction) or
     * runs again ({@code "running"}), as dask's worker-status-change. A paused worker gets no new
     * task nor copy; its data stays readable. Scheduler -> worker: it is being retired
     * ({@code "closing_gracefully"}: start no task) or no longer ({@code "running"}).
     */
    record WorkerStatusChange(String status) implements Message {}
    // p2p shuffle: the groupBy, distinct and join of a Bag under distributed.shuffle.method=p2p

    /** Worker -> scheduler: shuffle task {@code key} found its data incomplete, {@code lostWorker} to blame (empty: none). Answered by {@link Ack} once the shuffle restarted, if it had to. */
    record ShufflePeerLost(String key, String lostWorker) implements Message {}


    // p2p shuffle, push: input tasks send their shards to the workers owning the output partitions

    /**
     * Worker -> scheduler: the owners of the output partitions of the shuffle that input task {@code input}
     * feeds, of run {@code run} or later; {@code unreachable}, when not null, is an owner of run {@code run}
     * the sender could not reach; {@code partitions}, the output partitions the input cuts (the scheduler
     * may know fewer outputs: only some were asked for). Answered by {@link ShuffleOwners}.
     */
    record ShuffleGetOwners(String input, int run, String unreachable, int partitions) implements Message {}

    /** Shuffle {@code shuffle} (its barrier key) in run {@code run}: {@code owners.get(j)} runs output j; empty: the shuffle failed. */
    record ShuffleOwners(String shuffle, int run, List<String> owners) implements Message {}

    /** Worker -> worker: input {@code input}'s shards for output partitions {@code partitions} in run {@code run}. Answered by {@link ShufflePushed}. */
    record ShufflePush(String shuffle, int run, int input, List<Integer> partitions, List<byte[]> shards) implements Message {}

    /** The receiver's run of that shuffle: the push was kept when it is the run sent, refused as stale when it is later. */
    record ShufflePushed(int run) implements Message {}

    /** Scheduler -> worker, one way: shuffle {@code shuffle} runs again as run {@code run}: drop older runs' shards and owners, refuse their sends. */
    record ShuffleRestart(String shuffle, int run) implements Message {}
    // Task streams, spans and performance reports: what ran where and when, and totals per span

    /**
     * Client -> scheduler: the computations numbered {@code since} and later and the transfers numbered
     * {@code transfersSince} and later, at most {@code max} of each (the newest). Answered by {@link TaskStreamReply}.
     */
    record TaskStreamRequest(long since, long transfersSince, int max) implements Message {}

    /**
     * Computations (one per index of {@code keys}: worker, start and stop in epoch microseconds, result size,
     * whether it failed, the worker's slot that ran it) and transfers (the fetching worker, the peer it fetched from, start, stop, bytes), with
     * the numbers the next ones will get; and the workers' fine metrics so far per task group, one per index of
     * {@code metricGroups}: five activities (compute, transfer, waiting, spill, serialization) each, nanoseconds
     * in {@code metricNanos} and bytes in {@code metricBytes}, five entries a group.
     */
    record TaskStreamReply(long next, List<String> keys, List<String> workers, List<Long> startMicros,
                           List<Long> stopMicros, List<Long> nbytes, List<Boolean> erred, long nextTransfer,
                           List<String> transferWorkers, List<String> transferPeers, List<Long> transferStartMicros,
                           List<Long> transferStopMicros, List<Long> transferBytes, List<Integer> threads,
                           List<String> metricGroups, List<Long> metricNanos, List<Long> metricBytes)
            implements Message {}

    /**
     * Worker -> scheduler, about twice a second while it works: what its fine metrics grew by since the
     * last one. Entry i: span {@code spans[i]} (null: none), task group {@code groups[i]}, activity
     * {@code activities[i]} (0 compute, 1 transfer, 2 waiting, 3 spill, 4 serialization), nanoseconds and
     * bytes. Numbers only: the scheduler sums them per group and per span.
     */
    record FineMetrics(List<String> spans, List<String> groups, List<Integer> activities, List<Long> nanos,
                       List<Long> bytes) implements Message {}

    /** Client -> scheduler: the totals of every span kept. Answered by {@link SpansReply}. */
    record SpansRequest() implements Message {}

    /**
     * Per span, one per index of {@code ids} ("etl#3f2a"; a nested span's parent is the one before it in
     * {@code parents}, "" for none): tasks submitted, tasks not yet forgotten, compute seconds, errors, bytes
     * held in memory now, whether it is done (no task of it is left), and the seconds and bytes of fetching
     * its tasks' inputs.
     */
    record SpansReply(List<String> ids, List<String> parents, List<Long> tasks, List<Long> active,
                      List<Double> computeSeconds, List<Long> errors, List<Long> memoryBytes,
                      List<Boolean> done, List<Double> transferSeconds, List<Long> transferBytes)
            implements Message {}

    // ---------------------------------------------------------------- the sampling profiler: workers sample the
    // stacks of their running tasks and the scheduler keeps the trees per task group (dist's own data, never user payload)

    /**
     * One frame of a profile tree sent in preorder: the index of its parent in the list (-1: a root),
     * the frame ("pkg.Cls.method(File.java)") and the samples that were in it or in frames it called.
     */
    record ProfileFrame(int parent, String frame, long count) implements Message {}

    /** The samples of the tasks of one key in one cycle, as a preorder tree of {@link ProfileFrame}s. */
    record ProfileKey(String key, List<ProfileFrame> frames) implements Message {}

    /** Worker -> scheduler, every profile cycle with samples: what ran between two wall-clock times (ms since 1970). */
    record ProfileReport(long startMillis, long stopMillis, List<ProfileKey> keys) implements Message {}

    /**
     * Client -> scheduler: the merged profile of the cycles that overlap [{@code startMillis}, {@code stopMillis}]
     * (wall-clock ms; 0 and Long.MAX_VALUE: all kept), of task group {@code taskGroup} (null: every group).
     * Answered by {@link ProfileTree}.
     */
    record ProfileRequest(long startMillis, long stopMillis, String taskGroup) implements Message {}

    /** A merged profile: preorder frames under one root (index 0, frame "all"); the groups seen in it. */
    record ProfileTree(List<ProfileFrame> frames, List<String> groups) implements Message {}

    /**
     * Client -> scheduler: samples per {@code intervalMillis} over [{@code startMillis}, {@code stopMillis}]
     * (wall-clock ms; 0: from the oldest cycle kept), as dask's get_profile_metadata. Answered by
     * {@link ProfileCounts}.
     */
    record ProfileCountsRequest(long startMillis, long stopMillis, long intervalMillis) implements Message {}

    /**
     * Samples per interval: {@code times} the intervals' starts (wall-clock ms, one a step, none skipped),
     * {@code counts} all samples in each, {@code groups} each task group's samples in each (as long as times).
     */
    record ProfileCounts(List<Long> times, List<Long> counts, Map<String, List<Long>> groups) implements Message {}
}
