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
            Message m;
            try {
                m = link.request(new Message.ScatterRequest(pending, where, avoid, schedulerTimeoutMillis()));
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TimeoutException) {
                    // the scheduler holds the request until a worker can take the data: no answer means none came
                    throw new TimeoutException(noWorkerForScatter(where));
                }
                throw e;
            }
            if (m instanceof Message.ErrorReply e) {
                throw new IllegalArgumentException(e.message());
            }
            if (!(m instanceof Message.ScatterPlan plan)) {
                throw new ExecutionException(new IllegalStateException("the scheduler answered ScatterRequest with " + m));
            }
            if (plan.keysByWorker().isEmpty()) {
                throw new TimeoutException(noWorkerForScatter(where));
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

    private String noWorkerForScatter(List<String> where) {
        return "no worker" + (where.isEmpty() ? "" : " matching " + where)
                + " was there to take the scattered data within " + link.requestTimeout()
                + "; start one, then scatter again";
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
     * The scheduler empties these workers (empty: {@code n} it chooses) onto the others, then closes
     * them; answers what it knew of each retired and why each other one stays.
     */
    public Message.RetireReply retireWorkers(List<String> workers, int n) throws ExecutionException,
            InterruptedException, TimeoutException {
        Message m;
        try {
            m = link.request(new Message.RetireRequest(workers, n, schedulerTimeoutMillis()));
        } catch (TimeoutException e) {
            throw new TimeoutException("retire_workers got no answer from the scheduler in " + link.requestTimeout());
        }
        if (m instanceof Message.RetireReply r) {
            return r;
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

    /** What {@link #run} does with a worker's error: throw it, return it in the worker's place, or leave the worker out. */
    public enum RunErrors { RAISE, RETURN, IGNORE }

    /**
     * Calls {@code fn} on the workers matching {@code restrictions} (null: all; empty: none, as dask's
     * {@code workers=[]}) and returns each result by worker address.
     */
    @SuppressWarnings("unchecked")
    public <R> Map<String, R> run(Invokable fn, List<Object> args, List<String> restrictions, RunErrors onError)
            throws ExecutionException, InterruptedException, TimeoutException {
        if (restrictions != null && restrictions.isEmpty()) {
            return new LinkedHashMap<>();
        }
        byte[] call = codec.encodeValue(new TaskCall(fn, args));
        Map<String, CompletableFuture<Message>> replies = new LinkedHashMap<>();
        for (Message.WorkerInfo w : workers(restrictions)) {
            replies.put(w.address(), link.requestWorker(w.address(), new Message.RunFunction(call)));
        }
        Map<String, R> out = new LinkedHashMap<>();
        for (Map.Entry<String, CompletableFuture<Message>> e : replies.entrySet()) {
            Throwable error;
            try {
                Message m = get(e.getValue(), "run on " + e.getKey());
                if (m instanceof Message.RunReply r && r.exception() == null) {
                    out.put(e.getKey(), (R) codec.decodeValue(r.value()));
                    continue;
                }
                error = m instanceof Message.RunReply r ? codec.mapError(r.exception(), r.summary(), "run")
                        : new IllegalStateException("worker " + e.getKey() + " answered RunFunction with " + m);
            } catch (ExecutionException | TimeoutException ex) {
                // the worker could not be reached or did not answer: an error of that worker only
                error = ex instanceof ExecutionException && ex.getCause() != null ? ex.getCause() : ex;
            }
            switch (onError) {
                case RAISE -> throw new ExecutionException("run failed on worker " + e.getKey() + ": " + error, error);
                case RETURN -> out.put(e.getKey(), (R) error);
                case IGNORE -> { }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ running a task here

    /** The key that failed first for an erred future (itself, or the input that made it fail). */
    public static String failedKey(KeyState state) {
        if (!state.status().equals(KeyState.ERROR)) {
            throw new IllegalArgumentException("No errored futures passed: " + state.key + " is " + state.status());
        }
        return state.causeKey() != null ? state.causeKey() : state.key;
    }

    /**
     * Runs task {@code key} in this thread, on its inputs' values fetched from the cluster, and returns
     * what it returns; what it throws is thrown here.
     */
    public Object runHere(String key, ClassLoader loader) throws Exception {
        Message m = link.request(new Message.TaskRunRequest(key));
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        if (!(m instanceof Message.TaskRunReply r)) {
            throw new ExecutionException(new IllegalStateException("the scheduler answered TaskRunRequest with " + m));
        }
        Map<String, Object> values = new LinkedHashMap<>();
        if (!r.deps().isEmpty()) {
            Map<String, Future<Object>> inputs = new LinkedHashMap<>();
            for (String k : r.deps()) {
                inputs.put(k, refs.holdKey(k));
            }
            link.sendToScheduler(new Message.UpdateGraph(link.id(), List.of(), r.deps()), inputs.values());
            try {
                long deadline = System.nanoTime() + link.requestTimeout().toNanos();
                @SuppressWarnings("unchecked")
                Map<String, Object> got = (Map<String, Object>) results.gather(inputs, deadline);
                values.putAll(got);
            } finally {
                inputs.values().forEach(Future::release);
            }
        }
        TaskCall call = dist.protocol.RunCodec.decode(dist.serial.Serializer.defaults(), r.run(), loader, values::get,
                new dist.protocol.RunCodec.FunctionCache());
        return call.function().invoke(call.args().toArray());
    }

    // ------------------------------------------------------------------ versions

    /**
     * {"client": ..., "scheduler": ..., "workers": {address: ...}}, each a {@link dist.protocol.Versions}
     * map; a worker that cannot be asked is left out. With {@code check}, a Java feature release or a
     * dist version that differs between them is an IllegalStateException naming each.
     */
    public Map<String, Object> versions(boolean check) throws ExecutionException, InterruptedException,
            TimeoutException {
        Message m = link.request(new Message.VersionsRequest());
        if (!(m instanceof Message.VersionsReply r)) {
            throw new ExecutionException(new IllegalStateException("the scheduler answered VersionsRequest with " + m));
        }
        dist.Fn0<Map<String, String>> local = dist.protocol.Versions::local;
        Map<String, Map<String, String>> workers = run(local, List.of(), null, RunErrors.IGNORE);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("scheduler", r.versions());
        out.put("client", dist.protocol.Versions.local());
        out.put("workers", workers);
        if (check) {
            Map<String, Map<String, String>> all = new LinkedHashMap<>();
            all.put("client", dist.protocol.Versions.local());
            all.put("scheduler", r.versions());
            workers.forEach((w, v) -> all.put("worker " + w, v));
            for (String field : List.of("java", "dist")) {
                Map<String, String> seen = new TreeMap<>();
                all.forEach((who, v) -> seen.put(who, field.equals("java") ? feature(v.get(field)) : v.get(field)));
                if (new HashSet<>(seen.values()).size() > 1) {
                    throw new IllegalStateException("mismatched " + field + " versions: " + seen);
                }
            }
        }
        return out;
    }

    /** "21" of "21.0.2+13". */
    private static String feature(String javaVersion) {
        if (javaVersion == null) {
            return "?";
        }
        int i = 0;
        while (i < javaVersion.length() && Character.isDigit(javaVersion.charAt(i))) {
            i++;
        }
        return javaVersion.substring(0, i);
    }

    // ------------------------------------------------------------------ restart workers

    /**
     * Restarts the named workers through their nannies and waits until as many workers as before are
     * registered again, within {@code timeout}; answers "OK" under each name given.
     */
    public Map<String, String> restartWorkers(List<String> names, java.time.Duration timeout)
            throws ExecutionException, InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int before = link.workersInfo().size();
        Message m = link.request(new Message.RestartWorkers(List.copyOf(names)));
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        expectAck(m, "restarting workers " + names);
        int now = 0;
        while (System.nanoTime() - deadline < 0) {
            now = link.workersInfo().size();
            if (now >= before) {
                Map<String, String> out = new LinkedHashMap<>();
                names.forEach(n -> out.put(n, "OK"));
                return out;
            }
            Thread.sleep(50);
        }
        throw new TimeoutException("after restarting " + names + " only " + now + " of " + before
                + " workers were back within " + timeout.toMillis() + " ms");
    }

    /**
     * The stacks of the threads running {@code keys} (every running task with {@code all}), by worker
     * and key; workers running none of them are left out.
     */
    public Map<String, Map<String, List<String>>> callStack(List<String> keys, boolean all)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<String, CompletableFuture<Message>> replies = new LinkedHashMap<>();
        for (Message.WorkerInfo w : workers(List.of())) {
            replies.put(w.address(), link.requestWorker(w.address(), new Message.CallStackRequest(keys, all)));
        }
        Map<String, Map<String, List<String>>> out = new LinkedHashMap<>();
        for (Map.Entry<String, CompletableFuture<Message>> e : replies.entrySet()) {
            Message m = get(e.getValue(), "call stacks of " + e.getKey());
            if (!(m instanceof Message.CallStackReply r)) {
                throw new ExecutionException(new IllegalStateException("worker " + e.getKey()
                        + " answered CallStackRequest with " + m));
            }
            if (!r.stacks().isEmpty()) {
                out.put(e.getKey(), r.stacks());
            }
        }
        return out;
    }

    /** Asks every worker to forward (or, with {@code on} false, stop forwarding) task records of {@code logger}. */
    public void forwardLogging(String logger, int level, boolean on) throws ExecutionException, InterruptedException,
            TimeoutException {
        Map<String, CompletableFuture<Message>> replies = new LinkedHashMap<>();
        for (Message.WorkerInfo w : workers(List.of())) {
            replies.put(w.address(), link.requestWorker(w.address(),
                    new Message.ForwardLogging(link.id(), logger, level, on)));
        }
        for (Map.Entry<String, CompletableFuture<Message>> e : replies.entrySet()) {
            expectAck(get(e.getValue(), "log forwarding on " + e.getKey()), "log forwarding on " + e.getKey());
        }
    }

    // ------------------------------------------------------------------ metadata

    public void setMetadata(List<String> keys, Object value) throws ExecutionException, InterruptedException,
            TimeoutException {
        ask(new Message.SetMetadata(metadataPath(keys), codec.encodeValue(value)), "setting metadata " + keys);
    }

    /** The metadata at {@code keys}: a value, or a map of what lies below; {@code fallback} when none is there. */
    public Object getMetadata(List<String> keys, boolean hasFallback, Object fallback)
            throws ExecutionException, InterruptedException, TimeoutException {
        List<String> path = metadataPath(keys);
        Message m = link.request(new Message.GetMetadata(path));
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        if (!(m instanceof Message.MetadataReply r)) {
            throw new ExecutionException(new IllegalStateException("the scheduler answered GetMetadata with " + m));
        }
        switch (r.outcome()) {
            case "missing" -> {
                if (hasFallback) {
                    return fallback;
                }
                throw new java.util.NoSuchElementException("no metadata at " + path.subList(0, r.depth() + 1));
            }
            case "not-a-map" -> throw new IllegalArgumentException("metadata " + path.subList(0, r.depth())
                    + " is a value, not a map: it has no " + path.get(r.depth()));
            default -> { }
        }
        if (r.paths().size() == 1 && r.paths().get(0).isEmpty()) {
            return codec.decodeValue(r.values().get(0));
        }
        Map<String, Object> tree = new LinkedHashMap<>();
        for (int i = 0; i < r.paths().size(); i++) {
            List<String> at = r.paths().get(i);
            Map<String, Object> node = tree;
            for (String k : at.subList(0, at.size() - 1)) {
                @SuppressWarnings("unchecked")
                Map<String, Object> next = (Map<String, Object>) node.computeIfAbsent(k, x -> new LinkedHashMap<>());
                node = next;
            }
            node.put(at.get(at.size() - 1), codec.decodeValue(r.values().get(i)));
        }
        return tree;
    }

    private static List<String> metadataPath(List<String> keys) {
        if (keys == null || keys.isEmpty() || keys.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("a metadata path names at least one key, none null: " + keys);
        }
        return List.copyOf(keys);
    }

    // ------------------------------------------------------------------ datasets

    public void publish(String name, Object value, boolean override) throws ExecutionException, InterruptedException,
            TimeoutException {
        Map<String, Object> one = new LinkedHashMap<>();
        one.put(checkedName(name), value);
        publish(one, override);
    }

    /** Publishes every entry of {@code entries} in one request: all or none. */
    public void publish(Map<String, ?> entries, boolean override) throws ExecutionException, InterruptedException,
            TimeoutException {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("no dataset to publish: give at least one name and value");
        }
        List<Message.PublishDataset> all = new ArrayList<>(entries.size());
        for (Map.Entry<String, ?> e : entries.entrySet()) {
            Object value = e.getValue();
            if (value instanceof dist.Delayed<?> d) {
                if (d.future() == null) {
                    throw new IllegalArgumentException("dataset '" + e.getKey() + "' is an uncomputed Delayed, a recipe "
                            + "and not data: publish delayed.persist(client) instead, or the plain value it wraps");
                }
                value = d.future(); // a persisted Delayed is its Future
            }
            Set<String> deps = new LinkedHashSet<>();
            // a dataset without futures is a plain value, kept as bytes on the scheduler (as in dask)
            byte[] shape = codec.encodeValue(value, tasks.futureReplacer(deps));
            refs.awaitSent(deps); // a pure key another thread submitted goes out before the name that holds it
            all.add(new Message.PublishDataset(checkedName(e.getKey()), List.copyOf(deps), shape, override));
        }
        Message m;
        try {
            m = link.request(all.size() == 1 ? all.get(0) : new Message.PublishDatasets(all, override));
        } finally {
            java.lang.ref.Reference.reachabilityFence(entries); // its futures hold their keys until the dataset does
        }
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        expectAck(m, "publishing " + (all.size() == 1 ? "dataset '" + all.get(0).name() + "'" : "datasets " + entries.keySet()));
        for (Message.PublishDataset p : all) {
            datasets.published(p.name(), p.keys(), p.shape());
        }
    }

    private static String checkedName(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a dataset needs a non-empty name");
        }
        return name;
    }

    /** The dataset {@code name}, or {@code fallback} when none has that name. */
    public Object get(String name, Object fallback) throws ExecutionException, InterruptedException, TimeoutException {
        Message m = link.request(new Message.GetDataset(name));
        if (m instanceof Message.ErrorReply) {
            return fallback;
        }
        return rebuild(m);
    }

    public Object get(String name) throws ExecutionException, InterruptedException, TimeoutException {
        Message m = link.request(new Message.GetDataset(name));
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        return rebuild(m);
    }

    private Object rebuild(Message m) throws ExecutionException {
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
