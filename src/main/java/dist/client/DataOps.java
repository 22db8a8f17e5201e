package dist.client;

import dist.Future;
import dist.TaskStatus;
import dist.protocol.Invokable;
import dist.protocol.Message;
import dist.protocol.TaskCall;
import dist.protocol.TaskSpec;
import dist.serial.Encoded;
import dist.serial.Ref;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Scatter, replication, rebalancing, run and datasets on behalf of a {@code dist.Client}. Internal. */
public final class DataOps {
    private final SchedulerLink link;
    private final Values codec;
    private final KeyRefs refs;
    private final Tasks tasks;
    private final Results results;
    private final Datasets datasets;

    public DataOps(SchedulerLink link, Values codec, KeyRefs refs, Tasks tasks, Results results, Datasets datasets) {
        this.link = link;
        this.codec = codec;
        this.refs = refs;
        this.tasks = tasks;
        this.results = results;
        this.datasets = datasets;
    }

    // ------------------------------------------------------------------ workers

    /** Workers matching {@code restrictions} (address, host or name; empty: all), in the scheduler's order. */
    public List<Message.WorkerInfo> workers(List<String> restrictions) throws ExecutionException, InterruptedException,
            TimeoutException {
        List<Message.WorkerInfo> all = link.workersInfo();
        if (restrictions == null || restrictions.isEmpty()) {
            return all;
        }
        List<Message.WorkerInfo> out = new ArrayList<>();
        for (Message.WorkerInfo w : all) {
            for (String r : restrictions) {
                if (r != null && Placement.matches(w.address(), w.name(), r)) {
                    out.add(w);
                    break;
                }
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no connected worker matches " + restrictions + "; workers are "
                    + all.stream().map(w -> w.address() + " (" + w.name() + ")").toList());
        }
        return out;
    }

    // ------------------------------------------------------------------ scatter

    /**
     * Values by key (insertion order kept); returns a Future per key, finished once the data is placed.
     * The scheduler says which worker stores which value; the values go to those workers straight
     * from here. A worker that fails to store its share is avoided when the scheduler is asked again.
     * With {@code broadcast} the scheduler then copies every value to every worker (dask: scatter,
     * then replicate).
     */
    public <T> Map<String, Future<T>> scatter(LinkedHashMap<String, Object> values, List<String> restrictions,
                                      boolean broadcast) throws ExecutionException, InterruptedException,
            TimeoutException {
        LinkedHashMap<String, Encoded> bytes = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            if (e.getValue() instanceof Future<?>) {
                throw new IllegalArgumentException("scatter takes values, not futures (key " + e.getKey()
                        + "); a future's data is on the cluster already");
            }
            bytes.put(e.getKey(), codec.encodeParts(e.getValue()));
        }
        List<String> where = restrictions == null ? List.of() : restrictions;
        // the scheduler learns the keys first (as data without a recipe), so the workers' AddKeys find them
        Map<String, Future<T>> futures = new LinkedHashMap<>();
        List<TaskSpec> specs = new ArrayList<>();
        for (String key : bytes.keySet()) {
            Future<T> f = refs.holdKey(key);
            refs.scattered(f);
            futures.put(key, f);
            specs.add(new TaskSpec(key, null, List.of(), tasks.nextPriority(0), null));
        }
        link.sendToScheduler(new Message.UpdateGraph(link.id(), specs, List.copyOf(bytes.keySet())), futures.values());
        List<String> pending = new ArrayList<>(bytes.keySet());
        List<String> avoid = new ArrayList<>();
        ExecutionException firstFailure = null;
        for (int round = 0; !pending.isEmpty(); round++) {
            if (round == 3) {
                throw firstFailure;
            }
            Message m = link.request(new Message.ScatterRequest(pending, where, avoid, schedulerTimeoutMillis()));
            if (m instanceof Message.ErrorReply e) {
                throw new IllegalArgumentException(e.message());
            }
            if (!(m instanceof Message.ScatterPlan plan)) {
                throw new ExecutionException(new IllegalStateException("the scheduler answered ScatterRequest with " + m));
            }
            if (plan.keysByWorker().isEmpty()) {
                throw new TimeoutException("no worker" + (where.isEmpty() ? "" : " matching " + where)
                        + " was there to take the scattered data within " + link.requestTimeout()
                        + "; start one, then scatter again");
            }
            Map<String, CompletableFuture<Message>> replies = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> e : plan.keysByWorker().entrySet()) {
                Map<String, Encoded> share = new LinkedHashMap<>();
                e.getValue().forEach(k -> share.put(k, bytes.get(k)));
                replies.put(e.getKey(), link.requestWorker(e.getKey(), new Message.PutData(share)));
            }
            pending = new ArrayList<>();
            for (Map.Entry<String, CompletableFuture<Message>> e : replies.entrySet()) {
                try {
                    Message r = get(e.getValue(), "storing scattered data on " + e.getKey());
                    if (!(r instanceof Message.Ack)) {
                        throw new ExecutionException(new IllegalStateException("worker " + e.getKey()
                                + " did not store the scattered data: " + r));
                    }
                } catch (ExecutionException ex) {
                    firstFailure = firstFailure == null ? ex : firstFailure;
                    avoid.add(e.getKey());
                    pending.addAll(plan.keysByWorker().get(e.getKey()));
                }
            }
        }
        long deadline = System.nanoTime() + link.requestTimeout().toNanos();
        for (Future<T> f : futures.values()) {
            results.await(f, deadline); // dask returns scattered futures finished
        }
        if (broadcast && !bytes.isEmpty()) {
            // the scheduler checked the restrictions for the scatter already
            ask(new Message.ReplicateRequest(List.copyOf(bytes.keySet()), 0, where, 2, schedulerTimeoutMillis()),
                    "replicate");
        }
        return futures;
    }

    /** The scheduler's deadline for a request: within this client's, so its answer (an error too) arrives. */
    private long schedulerTimeoutMillis() {
        long ms = link.requestTimeout().toMillis();
        return Math.max(1, ms - Math.min(ms / 10, 1000));
    }

    /** Sends a request the scheduler answers with Ack once done; its error becomes the caller's. */
    /** Restrictions that match no worker are the caller's mistake: an IllegalArgumentException, before anything is asked. */
    private void checkRestrictions(List<String> restrictions) throws ExecutionException, InterruptedException,
            TimeoutException {
        if (restrictions != null && !restrictions.isEmpty()) {
            workers(restrictions);
        }
    }

    private void ask(Message request, String what) throws ExecutionException, InterruptedException,
            TimeoutException {
        Message m;
        try {
            m = link.request(request);
        } catch (TimeoutException e) {
            throw new TimeoutException(what + " got no answer from the scheduler in " + link.requestTimeout());
        }
        if (m instanceof Message.ErrorReply e) {
            throw new ExecutionException(e.message(), new IllegalStateException(e.message()));
        }
        expectAck(m, what);
    }

    private Message get(CompletableFuture<Message> cf, String what) throws InterruptedException,
            ExecutionException, TimeoutException {
        try {
            return cf.get(link.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new ExecutionException(what + " failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new TimeoutException(what + " got no answer in " + link.requestTimeout());
        }
    }

    // ------------------------------------------------------------------ replicate, rebalance

    /** The scheduler copies the keys (waiting for unfinished ones) and answers once it lists the copies. */
    public void replicate(List<String> keys, int n, List<String> restrictions, int branching)
            throws ExecutionException, InterruptedException, TimeoutException {
        if (branching < 1) {
            throw new IllegalArgumentException("branchingFactor must be at least 1, got " + branching);
        }
        checkRestrictions(restrictions);
        ask(new Message.ReplicateRequest(keys, n, restrictions == null ? List.of() : restrictions, branching,
                schedulerTimeoutMillis()), "replicate");
    }

    /** The scheduler moves the keys (empty: any) among the workers and answers once the moves are listed. */
    public void rebalance(List<String> keys, List<String> restrictions) throws ExecutionException, InterruptedException,
            TimeoutException {
        checkRestrictions(restrictions);
        ask(new Message.RebalanceRequest(keys, restrictions == null ? List.of() : restrictions,
                schedulerTimeoutMillis()), "rebalance");
    }

    /**
     * The scheduler copies what only these workers (empty: {@code n} it chooses) hold to the others,
     * then closes them; answers what the scheduler knew of each, by address.
     */
    public Map<String, Message.WorkerInfo> retireWorkers(List<String> workers, int n) throws ExecutionException,
            InterruptedException, TimeoutException {
        Message m;
        try {
            m = link.request(new Message.RetireRequest(workers, n, schedulerTimeoutMillis()));
        } catch (TimeoutException e) {
            throw new TimeoutException("retire_workers got no answer from the scheduler in " + link.requestTimeout());
        }
        if (m instanceof Message.RetireReply r) {
            Map<String, Message.WorkerInfo> out = new LinkedHashMap<>();
            r.retired().forEach(w -> out.put(w.address(), w));
            return out;
        }
        if (m instanceof Message.ErrorReply e) {
            throw new ExecutionException(e.message(), new IllegalStateException(e.message()));
        }
        throw new ExecutionException(new IllegalStateException("the scheduler answered RetireRequest with " + m));
    }

    private static void expectAck(Message m, String what) throws ExecutionException {
        if (!(m instanceof Message.Ack)) {
            throw new ExecutionException(new IllegalStateException(what + " failed: " + m));
        }
    }

    // ------------------------------------------------------------------ queries

    public Map<String, List<String>> hasWhat(List<String> restrictions) throws ExecutionException, InterruptedException,
            TimeoutException {
        Message m = link.request(new Message.HasWhatRequest(restrictions));
        if (m instanceof Message.HasWhatReply r) {
            return r.hasWhat();
        }
        throw new ExecutionException(new IllegalStateException("the scheduler answered HasWhatRequest with " + m));
    }

    public Map<String, Long> nbytes(List<String> keys) throws ExecutionException, InterruptedException, TimeoutException {
        Message m = link.request(new Message.NbytesRequest(keys));
        if (m instanceof Message.NbytesReply r) {
            return r.nbytes();
        }
        throw new ExecutionException(new IllegalStateException("the scheduler answered NbytesRequest with " + m));
    }

    public static Map<String, Long> summarize(Map<String, Long> nbytes) {
        Map<String, Long> out = new TreeMap<>();
        for (Map.Entry<String, Long> e : nbytes.entrySet()) {
            out.merge(Placement.keyPrefix(e.getKey()), e.getValue(), Long::sum);
        }
        return out;
    }

    public TaskStatus taskStatus(String key) throws ExecutionException, InterruptedException, TimeoutException {
        Message m = link.request(new Message.TaskStatusRequest(List.of(key)));
        if (m instanceof Message.TaskStatusReply r) {
            return new TaskStatus(key, r.states().getOrDefault(key, "unknown"), r.reasons().get(key));
        }
        throw new ExecutionException(new IllegalStateException("the scheduler answered TaskStatusRequest with " + m));
    }

    // ------------------------------------------------------------------ run

    @SuppressWarnings("unchecked")
    public <R> Map<String, R> run(Invokable fn, List<Object> args, List<String> restrictions)
            throws ExecutionException, InterruptedException, TimeoutException {
        byte[] call = codec.encodeValue(new TaskCall(fn, args));
        Map<String, CompletableFuture<Message>> replies = new LinkedHashMap<>();
        for (Message.WorkerInfo w : workers(restrictions)) {
            replies.put(w.address(), link.requestWorker(w.address(), new Message.RunFunction(call)));
        }
        Map<String, R> out = new LinkedHashMap<>();
        for (Map.Entry<String, CompletableFuture<Message>> e : replies.entrySet()) {
            Message m = get(e.getValue(), "run on " + e.getKey());
            if (m instanceof Message.RunReply r) {
                if (r.exception() != null) {
                    Throwable t = codec.mapError(r.exception(), r.summary(), "run");
                    throw new ExecutionException("run failed on worker " + e.getKey() + ": " + t, t);
                }
                out.put(e.getKey(), (R) codec.decodeValue(r.value()));
            } else {
                throw new ExecutionException(new IllegalStateException("worker " + e.getKey()
                        + " answered RunFunction with " + m));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ datasets

    public void publish(String name, Object value, boolean override) throws ExecutionException, InterruptedException,
            TimeoutException {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a dataset needs a non-empty name");
        }
        Set<String> deps = new LinkedHashSet<>();
        byte[] shape = codec.encodeValue(value, tasks.futureReplacer(deps));
        // a dataset without futures is a plain value, kept as bytes on the scheduler (as in dask)
        Message m = link.request(new Message.PublishDataset(name, List.copyOf(deps), shape, override));
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        expectAck(m, "publishing dataset '" + name + "'");
        datasets.published(name, List.copyOf(deps), shape);
    }

    public Object get(String name) throws ExecutionException, InterruptedException, TimeoutException {
        Message m = link.request(new Message.GetDataset(name));
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        if (!(m instanceof Message.DatasetReply d)) {
            throw new ExecutionException(new IllegalStateException("the scheduler answered GetDataset with " + m));
        }
        Map<String, Future<Object>> futures = new LinkedHashMap<>();
        for (String k : d.keys()) {
            futures.put(k, refs.holdKey(k));
        }
        if (!futures.isEmpty()) {
            link.sendToScheduler(new Message.UpdateGraph(link.id(), List.of(), List.copyOf(d.keys())), futures.values());
        }
        Object shape = codec.decodeValue(d.shape());
        return Shapes.rebuild(shape, Ref.class, r -> futures.get(r.key()));
    }

    public List<String> list() throws ExecutionException, InterruptedException, TimeoutException {
        Message m = link.request(new Message.ListDatasets());
        if (m instanceof Message.DatasetNames n) {
            return n.names();
        }
        throw new ExecutionException(new IllegalStateException("the scheduler answered ListDatasets with " + m));
    }

    public void unpublish(String name) throws ExecutionException, InterruptedException, TimeoutException {
        datasets.unpublished(name); // even if the scheduler no longer has it: this client let it go
        Message m = link.request(new Message.UnpublishDataset(name));
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        expectAck(m, "unpublishing dataset '" + name + "'");
    }
}
