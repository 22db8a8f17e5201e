package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.AcquireData;
import dist.protocol.Message.AcquireReply;
import dist.protocol.Message.Ack;
import dist.protocol.Message.DropReplicas;
import dist.protocol.Message.ErrorReply;
import dist.protocol.Message.FreeKeys;
import dist.protocol.Message.RebalanceRequest;
import dist.protocol.Message.ReplicateRequest;
import dist.protocol.Message.ScatterPlan;
import dist.protocol.Message.ScatterRequest;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where data goes, decided here as dask's scheduler decides it: the targets of a scatter, the tree
 * copy of a replicate, the moves of a rebalance. Clients ask and wait; workers copy from their
 * peers when told ({@link AcquireData}) and report the copies ({@code AddKeys}, then
 * {@link AcquireReply}). Bytes never pass through here.
 *
 * <p>Replicate and rebalance change replicas one request at a time, first come first served (dask's
 * replica lock), so two clients never plan against each other; a request whose keys are still
 * being computed waits for them without holding up the others. Every request has a deadline,
 * checked on the tick: none waits forever, and a worker that dies mid-request only takes its own
 * copies with it.
 */
final class DataPlacementExtension implements SchedulerExtension {

    /** The deadline of a request that names none. */
    static final long DEFAULT_TIMEOUT_NANOS = 30_000_000_000L;
    /** A tree copy doubles (or more) its holders each generation: far fewer suffice for any cluster. */
    static final int MAX_GENERATIONS = 64;

    private SchedulerContext core;
    /** Scatters waiting for a worker to join. */
    private final ArrayList<Scatter> scatters = new ArrayList<>();
    /** Values each client scattered so far: where its next round-robin starts, so single values spread. */
    private final HashMap<String, Long> scatterCursors = new HashMap<>();
    /** Replica changes whose keys are not all in memory yet. */
    private final ArrayList<Op> waiting = new ArrayList<>();
    /** Replica changes ready to run; only the head runs. */
    private final ArrayDeque<Op> queue = new ArrayDeque<>();

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(ScatterRequest.class, ReplicateRequest.class, RebalanceRequest.class, DropReplicas.class);
    }

    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(AcquireReply.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        switch (message) {
            case ScatterRequest s -> scatter(clientId, s, requestId);
            case ReplicateRequest r -> {
                List<String> keys = knownKeys(r.keys(), "ReplicateRequest");
                if (r.branching() < 1) {
                    throw new IllegalArgumentException("the branching factor must be at least 1, got " + r.branching());
                }
                List<String> ws = restrictions(r.workers());
                submit(new Replicate(clientId, requestId, deadline(r.timeoutMillis()), keys, ws, r.n(), r.branching()));
            }
            case RebalanceRequest r -> {
                List<String> keys = knownKeys(r.keys() == null ? List.of() : r.keys(), "RebalanceRequest");
                List<String> ws = restrictions(r.workers());
                submit(new Rebalance(clientId, requestId, deadline(r.timeoutMillis()), keys, ws));
            }
            case DropReplicas d -> {
                if (d.workersByKey() == null) {
                    throw new IllegalArgumentException("DropReplicas.workersByKey is null: send an empty map instead");
                }
                dropReplicas(d.workersByKey());
                core.reply(clientId, new Ack(), requestId);
            }
            default -> throw new IllegalStateException("not a data placement message: " + message);
        }
    }

    @Override
    public void onWorker(WorkerState worker, Message message, long requestId) {
        if (message instanceof AcquireReply r) {
            Op op = queue.peek();
            Set<String> asked = op == null ? null : op.outstanding.get(worker.address);
            if (asked != null && asked.equals(keysOf(r))) { // else an answer to a request that ended
                op.outstanding.remove(worker.address);
                op.copied(worker, r);
            }
            advance();
        }
    }

    @Override
    public void tick() {
        advance();
    }

    @Override
    public void workerAdded(WorkerState worker) {
        advance();
    }

    @Override
    public void workerRemoved(WorkerState worker) {
        // still registered during this call: the next step, on the next event, plans without it
        Op op = queue.peek();
        if (op != null && op.outstanding.remove(worker.address) != null) {
            op.lost(worker.address);
        }
    }

    @Override
    public void clientGone(String clientId) {
        scatters.removeIf(s -> s.clientId.equals(clientId));
        scatterCursors.remove(clientId);
        waiting.removeIf(o -> o.clientId.equals(clientId));
        queue.removeIf(o -> o.clientId.equals(clientId)); // copies in flight still arrive and are listed
    }

    // ---------------------------------------------------------------- scatter

    /** A scatter waiting for a worker. */
    private record Scatter(String clientId, long requestId, long deadline, ScatterRequest request) {}

    private void scatter(String clientId, ScatterRequest s, long requestId) {
        if (s.keys() == null || s.keys().stream().anyMatch(java.util.Objects::isNull)) { // List.of refuses contains(null)
            throw new IllegalArgumentException("ScatterRequest.keys must list keys, none null");
        }
        List<String> restrictions = restrictions(s.workers());
        if (!restrictions.isEmpty() && matching(restrictions).isEmpty()) {
            throw new IllegalArgumentException("no connected worker matches " + restrictions + "; workers are "
                    + core.workers().stream().map(w -> w.address + " (" + w.name + ")").toList());
        }
        Map<String, List<String>> plan = scatterPlan(clientId, s);
        if (plan != null) {
            core.reply(clientId, new ScatterPlan(plan), requestId);
        } else {
            scatters.add(new Scatter(clientId, requestId, deadline(s.timeoutMillis()), s));
        }
    }

    /**
     * Round-robin grouped by cores over the candidates in registration order, starting where this
     * client's last scatter stopped (as dask's counter in the client); null when there is none.
     */
    private Map<String, List<String>> scatterPlan(String clientId, ScatterRequest s) {
        Set<String> avoid = new HashSet<>(s.avoid() == null ? List.of() : s.avoid());
        LinkedHashMap<String, Integer> ncores = new LinkedHashMap<>();
        for (WorkerState w : matching(restrictions(s.workers()))) {
            if (!avoid.contains(w.address) && w.running()) { // as dask: no new data on a paused or closing worker
                ncores.put(w.address, w.nthreads);
            }
        }
        if (ncores.isEmpty()) {
            return null;
        }
        long start = scatterCursors.getOrDefault(clientId, 0L);
        List<String> where = PlacementPlanner.roundRobin(ncores, s.keys().size(), start);
        scatterCursors.put(clientId, start + s.keys().size());
        Map<String, List<String>> plan = new LinkedHashMap<>();
        for (int i = 0; i < where.size(); i++) {
            plan.computeIfAbsent(where.get(i), w -> new ArrayList<>()).add(s.keys().get(i));
        }
        return plan;
    }

    // ---------------------------------------------------------------- the queue of replica changes

    private void submit(Op op) {
        waiting.add(op);
        advance();
    }

    /** Moves every request on as far as it goes now; called on each event this extension hears of. */
    private void advance() {
        long now = core.now();
        for (Iterator<Scatter> it = scatters.iterator(); it.hasNext(); ) {
            Scatter s = it.next();
            Map<String, List<String>> plan = scatterPlan(s.clientId, s.request);
            if (plan != null || now - s.deadline >= 0) {
                it.remove();
                core.reply(s.clientId, new ScatterPlan(plan == null ? Map.of() : plan), s.requestId);
            }
        }
        for (Iterator<Op> it = waiting.iterator(); it.hasNext(); ) {
            Op op = it.next();
            String failed = now - op.deadline >= 0 ? op.timedOut("the keys " + notInMemory(op.keys)
                    + " to reach memory") : unreachable(op.keys);
            if (failed != null) {
                it.remove();
                op.fail(failed);
            } else if (notInMemory(op.keys).isEmpty()) {
                it.remove();
                queue.add(op);
            }
        }
        for (Iterator<Op> it = queue.iterator(); it.hasNext(); ) {
            Op op = it.next();
            if (op != queue.peek() && now - op.deadline >= 0) {
                it.remove();
                op.fail(op.timedOut("earlier replicate or rebalance requests to finish"));
            }
        }
        while (!queue.isEmpty()) {
            Op op = queue.peek();
            if (now - op.deadline >= 0) {
                queue.poll();
                op.fail(op.timedOut("copies to " + op.outstanding.keySet()));
                continue;
            }
            if (!op.outstanding.isEmpty()) {
                return; // copies in flight
            }
            try {
                if (!op.step()) {
                    return;
                }
            } catch (Failure f) {
                op.fail(f.getMessage());
            }
            queue.poll();
        }
    }

    /** Keys that are known and not in memory (yet). */
    private List<String> notInMemory(List<String> keys) {
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            TaskState ts = core.task(k);
            if (ts != null && (ts.state != TaskState.MEMORY || ts.whoHas == null)) {
                out.add(k);
            }
        }
        return out;
    }

    /** Why some key will never reach memory (it failed), or null. */
    private String unreachable(List<String> keys) {
        List<String> erred = new ArrayList<>();
        for (String k : keys) {
            TaskState ts = core.task(k);
            if (ts != null && ts.state == TaskState.ERRED) {
                erred.add(k);
            }
        }
        return erred.isEmpty() ? null : "the keys " + erred + " erred; there is nothing to copy";
    }

    /** A request cannot go on; the message says why. */
    private static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message, null, false, false);
        }
    }

    /** A replicate or rebalance: the keys it copies, and the copies it waits for (worker to keys asked). */
    private abstract class Op {
        final String clientId;
        final long requestId;
        final long deadline;
        final List<String> keys;
        final List<String> restrictions;
        final Map<String, Set<String>> outstanding = new LinkedHashMap<>();

        Op(String clientId, long requestId, long deadline, List<String> keys, List<String> restrictions) {
            this.clientId = clientId;
            this.requestId = requestId;
            this.deadline = deadline;
            this.keys = keys;
            this.restrictions = restrictions;
        }

        abstract String what();

        /** Sends the next copies (false: wait for them) or answers the client (true: done). */
        abstract boolean step();

        /** {@code worker} answered its copies: {@code r} says which it holds now. */
        abstract void copied(WorkerState worker, AcquireReply r);

        /** {@code worker} left before it answered. */
        void lost(String worker) {
        }

        void done() {
            core.reply(clientId, new Ack(), requestId);
        }

        void fail(String why) {
            core.log(System.Logger.Level.WARNING, what() + " for client " + clientId + " failed: " + why);
            core.reply(clientId, new ErrorReply(what() + " failed: " + why), requestId);
        }

        String timedOut(String waitingFor) {
            return "no answer within its deadline while waiting for " + waitingFor;
        }

        /** The candidate workers, least loaded first (registration order breaks ties). */
        List<String> candidates() {
            List<WorkerState> ws = new ArrayList<>(matching(restrictions));
            if (ws.isEmpty()) {
                throw new Failure(restrictions.isEmpty() ? "the cluster has no workers"
                        : "no connected worker matches " + restrictions);
            }
            ws.removeIf(w -> !w.running()); // as dask: paused and closing workers take no copies
            if (ws.isEmpty()) {
                throw new Failure("every matching worker is paused or closing gracefully");
            }
            ws.sort(Comparator.comparingLong(w -> w.heldBytes));
            return ws.stream().map(w -> w.address).toList();
        }

        void send(Map<String, Map<String, List<String>>> perTarget) {
            for (Map.Entry<String, Map<String, List<String>>> e : perTarget.entrySet()) {
                outstanding.put(e.getKey(), new LinkedHashSet<>(e.getValue().keySet()));
                core.send(e.getKey(), new AcquireData(e.getValue()));
            }
        }
    }

    /** dask's Scheduler.replicate: drop copies beyond n, then copy in generations until n. */
    private final class Replicate extends Op {
        final int n;
        final int branching;
        int generation;
        /** Copies asked for in the last generation (key, worker). */
        final List<String[]> asked = new ArrayList<>();
        /** A target of the last generation had a copy on its way out: no progress is no failure then. */
        boolean racing;

        Replicate(String clientId, long requestId, long deadline, List<String> keys, List<String> restrictions,
                  int n, int branching) {
            super(clientId, requestId, deadline, keys, restrictions);
            this.n = n;
            this.branching = branching;
        }

        @Override
        String what() {
            return "replicating " + keys.size() + " keys to " + (n <= 0 ? "every worker" : n + " workers");
        }

        @Override
        boolean step() {
            List<String> candidates = candidates();
            int copies = n <= 0 ? candidates.size() : Math.min(n, candidates.size());
            Map<String, List<String>> holders = holders(keys);
            if (generation == 0) {
                dropReplicas(PlacementPlanner.excessReplicas(holders, candidates, copies));
                holders = holders(keys);
            } else if (!racing && asked.stream().anyMatch(a -> core.worker(a[1]) != null)
                    && asked.stream().noneMatch(a -> holds(a[0], a[1]))) { // targets that left are no failure
                throw new Failure("no progress: no worker could copy " + keys + " from its holders " + holders);
            }
            racing = false;
            Map<String, Map<String, List<String>>> plan =
                    PlacementPlanner.replicationGeneration(holders, candidates, copies, branching);
            if (plan.isEmpty()) {
                for (String k : holders.keySet()) { // the active memory manager keeps these copies
                    TaskState ts = core.task(k);
                    if (ts != null) {
                        ts.replicasWanted = copies;
                    }
                }
                done();
                return true;
            }
            if (++generation > MAX_GENERATIONS) {
                throw new Failure("still copying after " + MAX_GENERATIONS + " generations; holders now " + holders);
            }
            asked.clear();
            plan.forEach((target, ks) -> ks.keySet().forEach(k -> asked.add(new String[] {k, target})));
            send(plan);
            return false;
        }

        @Override
        void copied(WorkerState worker, AcquireReply r) {
            // listed by its AddKeys, which came first; the next generation plans from who has what
            racing |= gotButNotListed(worker, r);
        }
    }

    /**
     * Whether {@code worker} says it has a key the scheduler does not list there: its copy was
     * being dropped (a FreeKeys ahead of the AcquireData), so it is gone by now. Asking again copies it.
     */
    private boolean gotButNotListed(WorkerState worker, AcquireReply r) {
        if (r.nbytes() != null) {
            for (String k : r.nbytes().keySet()) {
                if (!holds(k, worker.address)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** dask's Scheduler.rebalance: move keys from the fullest workers to the emptiest, drop the moved copies. */
    private final class Rebalance extends Op {
        /** Rounds of asking a target again whose copy was on its way out. */
        static final int ATTEMPTS = 3;
        /** Target to (key to source): the moves of this round; null until planned. */
        Map<String, Map<String, String>> moves;
        /** Moves whose target still had a copy being dropped: asked again next round. */
        Map<String, Map<String, String>> retry = new LinkedHashMap<>();
        int rounds;
        final Set<String> failed = new LinkedHashSet<>();

        Rebalance(String clientId, long requestId, long deadline, List<String> keys, List<String> restrictions) {
            super(clientId, requestId, deadline, keys, restrictions);
        }

        @Override
        String what() {
            return "rebalancing " + (keys.isEmpty() ? "all keys" : keys.size() + " keys");
        }

        @Override
        boolean step() {
            if (moves == null) {
                moves = plan();
            } else {
                boolean last = ++rounds >= ATTEMPTS;
                moves = new LinkedHashMap<>();
                retry.forEach((to, ks) -> ks.forEach((k, from) -> {
                    if (holds(k, to)) {
                        dropReplicas(Map.of(k, List.of(from))); // listed meanwhile
                    } else if (last || core.worker(to) == null || !holds(k, from)) {
                        failed.add(k);
                    } else {
                        moves.computeIfAbsent(to, t -> new LinkedHashMap<>()).put(k, from);
                    }
                }));
                retry = new LinkedHashMap<>();
            }
            if (moves.isEmpty()) {
                if (!failed.isEmpty() && !keys.isEmpty()) {
                    throw new Failure("could not move the keys " + failed + " (their new holder left or found"
                            + " no copy); they stay where they were");
                }
                done();
                return true;
            }
            Map<String, Map<String, List<String>>> perTarget = new LinkedHashMap<>();
            moves.forEach((to, ks) -> ks.forEach((k, from) ->
                    perTarget.computeIfAbsent(to, t -> new LinkedHashMap<>()).put(k, List.of(from))));
            send(perTarget);
            return false;
        }

        private Map<String, Map<String, String>> plan() {
            if (restrictions.isEmpty() && core.workers().isEmpty()) {
                return new LinkedHashMap<>(); // nothing to even out, as in dask
            }
            List<String> ws = candidates();
            Map<String, List<String>> hasWhat = new LinkedHashMap<>();
            Map<String, Long> sizes = new LinkedHashMap<>();
            for (String w : ws) {
                List<String> held = new ArrayList<>();
                for (TaskState ts : core.worker(w).hasWhat) {
                    held.add(ts.key);
                    sizes.put(ts.key, Math.max(0, ts.nbytes));
                }
                hasWhat.put(w, held);
            }
            Set<String> movable = keys.isEmpty() ? sizes.keySet() : new HashSet<>(keys);
            Map<String, Map<String, String>> out = new LinkedHashMap<>();
            for (PlacementPlanner.Move m : PlacementPlanner.rebalance(hasWhat, sizes, ws, movable)) {
                out.computeIfAbsent(m.to(), t -> new LinkedHashMap<>()).put(m.key(), m.from());
            }
            return out;
        }

        @Override
        void copied(WorkerState worker, AcquireReply r) {
            Map<String, List<String>> drop = new LinkedHashMap<>();
            for (Map.Entry<String, String> m : moves.getOrDefault(worker.address, Map.of()).entrySet()) {
                String k = m.getKey();
                if (holds(k, worker.address)) { // listed by the AddKeys that came first
                    drop.put(k, List.of(m.getValue()));
                } else if (r.nbytes() != null && r.nbytes().containsKey(k)) {
                    retry.computeIfAbsent(worker.address, t -> new LinkedHashMap<>()).put(k, m.getValue());
                } else {
                    failed.add(k);
                }
            }
            dropReplicas(drop);
        }

        @Override
        void lost(String worker) {
            failed.addAll(moves.getOrDefault(worker, Map.of()).keySet());
        }
    }

    // ---------------------------------------------------------------- replicas

    /** Holders of each key in memory; a key nobody wants any more is left out, a lost one fails the request. */
    private Map<String, List<String>> holders(List<String> keys) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        List<String> lost = new ArrayList<>();
        for (String k : keys) {
            TaskState ts = core.task(k);
            if (ts == null) {
                continue; // released by everyone meanwhile: nothing to keep copies of (dask skips forgotten keys)
            }
            if (ts.state != TaskState.MEMORY || ts.whoHas == null) {
                lost.add(k + " (" + TaskState.name(ts.state) + ")");
                continue;
            }
            List<String> h = new ArrayList<>(ts.whoHas.length);
            for (WorkerState w : ts.whoHas) {
                h.add(w.address);
            }
            out.put(k, h);
        }
        if (!lost.isEmpty()) {
            throw new Failure("the keys " + lost + " are no longer in memory");
        }
        return out;
    }

    private boolean holds(String key, String worker) {
        TaskState ts = core.task(key);
        if (ts == null || ts.whoHas == null) {
            return false;
        }
        for (WorkerState w : ts.whoHas) {
            if (w.address.equals(worker)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Lets the named workers drop their copies (key to workers): the scheduler stops listing them
     * at once and tells the workers. The last copy of a key is always kept.
     */
    private void dropReplicas(Map<String, List<String>> workersByKey) {
        Map<String, List<String>> free = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : workersByKey.entrySet()) {
            TaskState ts = e.getKey() == null ? null : core.task(e.getKey());
            if (ts == null || ts.state != TaskState.MEMORY || e.getValue() == null) {
                continue;
            }
            for (String addr : e.getValue()) {
                WorkerState ws = addr == null ? null : core.worker(addr);
                if (ws != null && ts.whoHas != null && ts.whoHas.length > 1 && ts.removeHolder(ws)) {
                    ws.unhold(ts);
                    free.computeIfAbsent(ws.address, w -> new ArrayList<>()).add(ts.key);
                }
            }
        }
        free.forEach((w, ks) -> core.send(w, new FreeKeys(ks)));
    }

    // ---------------------------------------------------------------- input

    private long deadline(long timeoutMillis) {
        long nanos = timeoutMillis > 0 ? Math.min(timeoutMillis, Long.MAX_VALUE / 2_000_000) * 1_000_000
                : DEFAULT_TIMEOUT_NANOS;
        return core.now() + nanos;
    }

    private static List<String> restrictions(List<String> workers) {
        if (workers == null) {
            return List.of();
        }
        if (workers.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("worker restrictions must not contain null");
        }
        return List.copyOf(workers);
    }

    /** The keys, each known to the scheduler (the client holds a future for it), duplicates dropped. */
    private List<String> knownKeys(List<String> keys, String what) {
        if (keys == null) {
            throw new IllegalArgumentException(what + ".keys is null: send an empty list instead");
        }
        List<String> unknown = new ArrayList<>();
        for (String k : keys) {
            if (k == null || core.task(k) == null) {
                unknown.add(k);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(what + " names keys the scheduler does not know: " + unknown
                    + "; pass futures this cluster still holds");
        }
        return List.copyOf(new LinkedHashSet<>(keys));
    }

    /** Registered workers matching any restriction (all when there is none), in registration order. */
    private List<WorkerState> matching(List<String> restrictions) {
        if (restrictions.isEmpty()) {
            return core.workers();
        }
        List<WorkerState> out = new ArrayList<>();
        for (WorkerState w : core.workers()) {
            for (String r : restrictions) {
                if (w.matches(r)) {
                    out.add(w);
                    break;
                }
            }
        }
        return out;
    }

    private static Set<String> keysOf(AcquireReply r) {
        Set<String> out = new HashSet<>(r.nbytes() == null ? Set.of() : r.nbytes().keySet());
        if (r.missing() != null) {
            out.addAll(r.missing());
        }
        return out;
    }
}
