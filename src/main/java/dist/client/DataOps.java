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

    /** Values by key (insertion order kept); returns a Future per key, finished once the data is placed. */
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
        List<Message.WorkerInfo> targets = workers(restrictions);
        if (targets.isEmpty()) {
            throw new IllegalStateException("the cluster has no workers yet; start one, then scatter again");
        }
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
        link.workersInfo(); // a round trip: the update above is handled before any worker reports the data
        Map<String, Map<String, Encoded>> perWorker = new LinkedHashMap<>();
        List<String> keys = new ArrayList<>(bytes.keySet());
        if (broadcast) {
            for (Message.WorkerInfo w : targets) {
                perWorker.put(w.address(), bytes);
            }
        } else {
            Map<String, Integer> ncores = new LinkedHashMap<>();
            for (Message.WorkerInfo w : targets) {
                ncores.put(w.address(), w.nthreads());
            }
            List<String> where = Placement.roundRobin(ncores, keys.size());
            for (int i = 0; i < keys.size(); i++) {
                perWorker.computeIfAbsent(where.get(i), w -> new LinkedHashMap<>()).put(keys.get(i), bytes.get(keys.get(i)));
            }
        }
        Map<String, CompletableFuture<Message>> replies = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Encoded>> e : perWorker.entrySet()) {
            replies.put(e.getKey(), link.requestWorker(e.getKey(), new Message.PutData(e.getValue())));
        }
        // a worker that left since the list was read is skipped: its share goes to one that stored
        Map<String, Map<String, Encoded>> failed = new LinkedHashMap<>();
        String stored = null;
        ExecutionException firstFailure = null;
        for (Map.Entry<String, CompletableFuture<Message>> e : replies.entrySet()) {
            try {
                Message m = get(e.getValue(), "storing scattered data on " + e.getKey());
                if (!(m instanceof Message.Ack)) {
                    throw new ExecutionException(new IllegalStateException("worker " + e.getKey()
                            + " did not store the scattered data: " + m));
                }
                stored = stored == null ? e.getKey() : stored;
            } catch (ExecutionException ex) {
                firstFailure = firstFailure == null ? ex : firstFailure;
                failed.put(e.getKey(), perWorker.get(e.getKey()));
            }
        }
        if (stored == null && firstFailure != null) {
            throw firstFailure;
        }
        if (!broadcast) {
            for (Map<String, Encoded> share : failed.values()) {
                Message m = get(link.requestWorker(stored, new Message.PutData(share)),
                        "storing scattered data on " + stored);
                if (!(m instanceof Message.Ack)) {
                    throw new ExecutionException(new IllegalStateException("worker " + stored
                            + " did not store the scattered data: " + m));
                }
            }
        }
        long deadline = System.nanoTime() + link.requestTimeout().toNanos();
        for (Future<T> f : futures.values()) {
            results.await(f, deadline); // dask returns scattered futures finished
        }
        // finished means one holder reported; a broadcast's other holders may still be on their way
        Map<String, Set<String>> placed = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Encoded>> e : perWorker.entrySet()) {
            String holder = failed.containsKey(e.getKey()) ? (broadcast ? null : stored) : e.getKey();
            for (String k : e.getValue().keySet()) {
                Set<String> at = placed.computeIfAbsent(k, x -> new LinkedHashSet<>());
                if (holder != null) {
                    at.add(holder);
                }
            }
        }
        awaitHolders(placed);
        return futures;
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

    public void replicate(List<String> keys, int n, List<String> restrictions, int branching)
            throws ExecutionException, InterruptedException, TimeoutException {
        if (branching < 1) {
            throw new IllegalArgumentException("branchingFactor must be at least 1, got " + branching);
        }
        List<String> candidates = workers(restrictions).stream().map(Message.WorkerInfo::address).toList();
        int copies = n <= 0 ? candidates.size() : Math.min(n, candidates.size());
        Map<String, List<String>> holders = new LinkedHashMap<>(link.whoHasKeys(keys, -1));
        for (int generation = 0; generation < 64; generation++) {
            Map<String, Map<String, List<String>>> plan =
                    Placement.replicationGeneration(holders, candidates, copies, branching);
            if (plan.isEmpty()) {
                break;
            }
            boolean progress = false;
            Map<String, CompletableFuture<Message>> replies = new LinkedHashMap<>();
            for (Map.Entry<String, Map<String, List<String>>> e : plan.entrySet()) {
                replies.put(e.getKey(), link.requestWorker(e.getKey(), new Message.AcquireData(e.getValue())));
            }
            for (Map.Entry<String, CompletableFuture<Message>> e : replies.entrySet()) {
                if (get(e.getValue(), "copying data to " + e.getKey()) instanceof Message.AcquireReply r) {
                    for (String k : r.nbytes().keySet()) {
                        List<String> h = new ArrayList<>(holders.getOrDefault(k, List.of()));
                        if (!h.contains(e.getKey())) {
                            h.add(e.getKey());
                            progress = true;
                        }
                        holders.put(k, h);
                    }
                }
            }
            if (!progress) {
                throw new ExecutionException(new IllegalStateException("replication made no progress: no worker "
                        + "could copy " + keys + " from its holders " + holders));
            }
        }
        Map<String, Set<String>> copied = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : holders.entrySet()) {
            copied.put(e.getKey(), new LinkedHashSet<>(e.getValue()));
        }
        Map<String, List<String>> known = awaitHolders(copied);
        Map<String, List<String>> drop = Placement.excessReplicas(known, candidates, copies);
        if (!drop.isEmpty()) {
            expectAck(link.request(new Message.DropReplicas(drop)), "dropping extra copies");
        }
    }

    public void rebalance(List<String> keys, List<String> restrictions) throws ExecutionException, InterruptedException,
            TimeoutException {
        List<String> ws = workers(restrictions).stream().map(Message.WorkerInfo::address).toList();
        Map<String, List<String>> hasWhat = hasWhat(List.of());
        Map<String, Long> sizes = nbytes(List.of());
        Set<String> movable = keys.isEmpty() ? sizes.keySet() : new HashSet<>(keys);
        List<Placement.Move> moves = Placement.rebalance(hasWhat, sizes, ws, movable);
        Map<String, Map<String, List<String>>> perTarget = new LinkedHashMap<>();
        for (Placement.Move m : moves) {
            perTarget.computeIfAbsent(m.to(), t -> new LinkedHashMap<>()).put(m.key(), List.of(m.from()));
        }
        Map<String, CompletableFuture<Message>> replies = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, List<String>>> e : perTarget.entrySet()) {
            replies.put(e.getKey(), link.requestWorker(e.getKey(), new Message.AcquireData(e.getValue())));
        }
        Map<String, Set<String>> copied = new LinkedHashMap<>(); // key -> targets that now hold it
        for (Map.Entry<String, CompletableFuture<Message>> e : replies.entrySet()) {
            if (get(e.getValue(), "moving data to " + e.getKey()) instanceof Message.AcquireReply r) {
                for (String k : r.nbytes().keySet()) {
                    if (perTarget.get(e.getKey()).containsKey(k)) {
                        copied.computeIfAbsent(k, x -> new LinkedHashSet<>()).add(e.getKey());
                    }
                }
            }
        }
        Map<String, List<String>> known = awaitHolders(copied);
        Map<String, List<String>> drop = new LinkedHashMap<>();
        for (Placement.Move m : moves) {
            if (known.getOrDefault(m.key(), List.of()).contains(m.to())) {
                drop.computeIfAbsent(m.key(), k -> new ArrayList<>()).add(m.from());
            }
        }
        if (!drop.isEmpty()) {
            expectAck(link.request(new Message.DropReplicas(drop)), "dropping moved copies");
        }
    }

    /**
     * The scheduler's holders of the keys of {@code copies} once it lists every new copy there, or as
     * they stand after the request timeout. A worker answers the client before the scheduler has read
     * its report of the copies it took, and the scheduler never drops a copy it believes to be the
     * last: dropping sooner would leave the old copies in place.
     */
    private Map<String, List<String>> awaitHolders(Map<String, Set<String>> copies)
            throws ExecutionException, InterruptedException, TimeoutException {
        List<String> keys = new ArrayList<>(copies.keySet());
        if (keys.isEmpty()) {
            return Map.of();
        }
        long deadline = System.nanoTime() + link.requestTimeout().toNanos();
        long pauseNanos = TimeUnit.MICROSECONDS.toNanos(100);
        while (true) {
            Map<String, List<String>> known = link.whoHasKeys(keys, deadline);
            boolean all = true;
            for (Map.Entry<String, Set<String>> e : copies.entrySet()) {
                all &= known.getOrDefault(e.getKey(), List.of()).containsAll(e.getValue());
            }
            if (all || System.nanoTime() + pauseNanos - deadline > 0) {
                return known; // past the deadline, a copy not listed yet (its worker gone?) is not counted on
            }
            java.util.concurrent.locks.LockSupport.parkNanos(pauseNanos);
            pauseNanos = Math.min(pauseNanos * 2, TimeUnit.MILLISECONDS.toNanos(50));
        }
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
        if (deps.isEmpty()) {
            throw new IllegalArgumentException("dataset '" + name + "' holds no future; publish futures (or "
                    + "lists and maps of them), e.g. the result of scatter or submit");
        }
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
        link.sendToScheduler(new Message.UpdateGraph(link.id(), List.of(), List.copyOf(d.keys())), futures.values());
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
