package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.AcquireData;
import dist.protocol.Message.CloseWorker;
import dist.protocol.Message.FreeKeys;
import dist.protocol.Message.RetireReply;
import dist.protocol.Message.RetireRequest;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * dask's active memory manager and retire_workers. Every interval (when started) it runs its
 * policies ({@link ReduceReplicas} and the user's {@link MemoryManagerPolicy} classes), checks
 * each suggestion and acts: a copy is asked of the receiver ({@link AcquireData}, it fetches from
 * a holder), a drop unlists the copy and frees it on its worker.
 *
 * <p>Retirement runs as dask's: the workers are marked closing gracefully (no new task, copy or
 * stolen task goes to them; their data stays readable), one {@link RetireWorker} policy each runs
 * on every tick until nothing executes on the worker and every result it held has a copy on a
 * worker that stays, and then it is closed: nothing is recomputed (tasks only queued there, never
 * started, are placed elsewhere). A worker whose results find no receiver
 * (no other worker, or none with room under its memory limit) runs again and the answer says why.
 *
 * <p>Receivers' room: the bytes they hold plus the copies on their way stay under their limit
 * times the smaller of the target and pause fractions, so a copy neither makes them spill nor
 * pause. Copies asked but not yet listed count as on their way for {@link #IN_FLIGHT_NANOS}, then
 * may be asked again. Every retirement has a deadline, checked on the tick.
 */
final class ActiveMemoryManagerExtension implements SchedulerExtension {
    /** A copy asked for and not listed after this long is taken as failed (its source left, say). */
    static final long IN_FLIGHT_NANOS = 30_000_000_000L;
    /** The deadline of a retirement that names none. */
    static final long DEFAULT_TIMEOUT_NANOS = 60_000_000_000L;
    /** Retirements waiting at once; one more is refused. */
    static final int MAX_REQUESTS = 10_000;

    private final boolean started;
    private final long intervalNanos;
    private final List<MemoryManagerPolicy> policies;
    private final double fraction;
    private SchedulerContext core;
    private long nextRun;
    /** Retiring workers by address, each with its policy. */
    private final LinkedHashMap<String, RetireWorker> retiring = new LinkedHashMap<>();
    private final ArrayList<Retirement> requests = new ArrayList<>();
    /** Key to (receiver to when the ask expires): copies asked and not listed yet. */
    private final HashMap<String, HashMap<String, Long>> inFlight = new HashMap<>();
    /** Receiver to the bytes on their way to it. */
    private final HashMap<String, Long> incoming = new HashMap<>();

    ActiveMemoryManagerExtension(boolean started, long intervalNanos, List<MemoryManagerPolicy> policies, double fraction) {
        this.started = started;
        this.intervalNanos = Math.max(1, intervalNanos);
        this.policies = List.copyOf(policies);
        this.fraction = fraction;
    }

    /** As configured by {@code distributed.scheduler.active-memory-manager.*} and the workers' memory fractions. */
    static ActiveMemoryManagerExtension fromConfig() {
        List<MemoryManagerPolicy> ps = new ArrayList<>();
        for (String name : dist.config.Config.get("distributed.scheduler.active-memory-manager.policies").split(",")) {
            String n = name.strip();
            if (n.isEmpty()) {
                continue;
            }
            ps.add(n.equals("ReduceReplicas") || n.equals("distributed.active_memory_manager.ReduceReplicas")
                    ? new ReduceReplicas() : MemoryManagerPolicy.load(n, ActiveMemoryManagerExtension.class.getClassLoader()));
        }
        double f = Math.min(dist.config.Config.getDouble("distributed.worker.memory.target"),
                dist.config.Config.getDouble("distributed.worker.memory.pause"));
        return new ActiveMemoryManagerExtension(dist.config.Config.getBoolean("distributed.scheduler.active-memory-manager.start"),
                dist.config.Config.getDuration("distributed.scheduler.active-memory-manager.interval").toNanos(), ps,
                f > 0 && f <= 1 ? f : 1.0);
    }

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
        nextRun = core.now() + intervalNanos;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(RetireRequest.class);
    }

    /** A worker closing gracefully by itself (its lifetime is over) asks to be retired. */
    @Override
    public Set<Class<? extends Message>> workerMessages() {
        return Set.of(RetireRequest.class);
    }

    @Override
    public void onWorker(WorkerState worker, Message message, long requestId) {
        RetireRequest r = (RetireRequest) message;
        if (retiring.containsKey(worker.address)) {
            return;
        }
        // as dask's close_gracefully: the worker goes even if it cannot be emptied (see runRetirements)
        retire(null, 0, List.of(worker), r.timeoutMillis(), true);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        RetireRequest r = (RetireRequest) message;
        if (r.workers() == null || r.workers().stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("RetireRequest.workers must list workers, none null: send an empty list instead");
        }
        if (requests.size() >= MAX_REQUESTS) {
            throw new IllegalArgumentException("already " + MAX_REQUESTS + " retirements under way; try again later");
        }
        List<WorkerState> chosen = new ArrayList<>();
        if (!r.workers().isEmpty()) {
            for (WorkerState w : core.workers()) {
                if (r.workers().stream().anyMatch(w::matches)) {
                    chosen.add(w);
                }
            }
        } else { // as dask's workers_to_close: idle ones first, then those holding the least
            List<WorkerState> ws = new ArrayList<>();
            for (WorkerState w : core.workers()) {
                if (!retiring.containsKey(w.address)) {
                    ws.add(w);
                }
            }
            ws.sort(Comparator.comparingInt((WorkerState w) -> w.processing.size()).thenComparingLong(w -> w.heldBytes));
            chosen.addAll(ws.subList(0, Math.min(ws.size(), Math.max(0, r.n()))));
        }
        retire(clientId, requestId, chosen, r.timeoutMillis(), false);
    }

    /** Starts retiring {@code chosen}; answered (when {@code clientId} is not null) once each is closed or kept. */
    private void retire(String clientId, long requestId, List<WorkerState> chosen, long timeoutMillis, boolean itsOwn) {
        long nanos = timeoutMillis > 0 ? Math.min(timeoutMillis, Long.MAX_VALUE / 2_000_000) * 1_000_000
                : DEFAULT_TIMEOUT_NANOS;
        Retirement ret = new Retirement(clientId, requestId, core.now() + nanos);
        for (WorkerState w : chosen) {
            ret.workers.add(w.address);
            if (!retiring.containsKey(w.address)) {
                RetireWorker p = new RetireWorker(w.address);
                p.itsOwn = itsOwn;
                retiring.put(w.address, p);
                core.setClosing(w, true);
            }
        }
        requests.add(ret);
        runRetirements();
    }

    @Override
    public void tick() {
        if (started && core.now() - nextRun >= 0) {
            nextRun = core.now() + intervalNanos;
            runPolicies(policies);
        }
        runRetirements();
    }

    @Override
    public void workerRemoved(WorkerState worker) {
        incoming.remove(worker.address);
        for (Iterator<HashMap<String, Long>> it = inFlight.values().iterator(); it.hasNext(); ) {
            HashMap<String, Long> to = it.next();
            to.remove(worker.address);
            if (to.isEmpty()) {
                it.remove();
            }
        }
    }

    @Override
    public void clientGone(String clientId) {
        for (Retirement r : requests) {
            if (r.clientId.equals(clientId)) {
                r.clientId = null; // the retirement goes on; nobody hears of it
            }
        }
    }

    @Override
    public void clusterRestarted(String clientId, String reason) {
        inFlight.clear();
        incoming.clear();
    }

    // ---------------------------------------------------------------- retirement

    /** One retire_workers call: the workers it waits for and what became of each. */
    private static final class Retirement {
        String clientId;
        final long requestId;
        final long deadline;
        final List<String> workers = new ArrayList<>();
        final List<Message.WorkerInfo> retired = new ArrayList<>();
        final Map<String, String> kept = new LinkedHashMap<>();

        Retirement(String clientId, long requestId, long deadline) {
            this.clientId = clientId;
            this.requestId = requestId;
            this.deadline = deadline;
        }

        boolean answered() {
            return retired.size() + kept.size() == workers.size();
        }
    }

    /** Runs the retiring workers' policies, closes those emptied, lets go of those that cannot be, answers. */
    private void runRetirements() {
        if (retiring.isEmpty() && requests.isEmpty()) {
            return;
        }
        expireInFlight();
        if (!retiring.isEmpty()) {
            runPolicies(new ArrayList<>(retiring.values()));
        }
        long now = core.now();
        Map<String, Message.WorkerInfo> closed = new HashMap<>();
        Map<String, String> kept = new HashMap<>();
        Set<String> own = new java.util.HashSet<>();
        for (Iterator<RetireWorker> it = retiring.values().iterator(); it.hasNext(); ) {
            RetireWorker p = it.next();
            WorkerState w = core.worker(p.address);
            if (w == null) {
                it.remove();
                kept.put(p.address, "it left before it was emptied");
            } else if (p.done(new Snapshot())) { // a fresh view: a worker kept just now holds copies that count
                it.remove();
                closed.put(p.address, info(w));
                if (p.itsOwn) { // it closes itself, so its nanny starts a fresh one as at the end of any lifetime
                    own.add(p.address);
                    core.send(w.address, new CloseWorker("closing gracefully: every result it held has a copy elsewhere"));
                }
            } else if (p.kept != null || overdue(p.address, now)) {
                it.remove();
                String why = p.kept != null ? p.kept : "not emptied within the deadline (" + w.processing.size()
                        + " tasks still running there)";
                kept.put(p.address, why);
                if (p.itsOwn) { // as dask's close_gracefully: it goes all the same
                    core.log(System.Logger.Level.WARNING, "worker " + w.address + " closes though not emptied: " + why);
                    core.send(w.address, new CloseWorker("closing though not emptied: " + why));
                } else {
                    core.setClosing(w, false);
                }
            }
        }
        for (Map.Entry<String, Message.WorkerInfo> e : closed.entrySet()) {
            WorkerState w = core.worker(e.getKey());
            if (w != null && !own.contains(w.address)) {
                core.log(System.Logger.Level.INFO, "retired worker " + w.address + ": every result it held has a copy elsewhere");
                core.retireWorker(w, "retired gracefully");
            }
        }
        for (Iterator<Retirement> it = requests.iterator(); it.hasNext(); ) {
            Retirement r = it.next();
            for (String a : r.workers) {
                if (r.retired.stream().anyMatch(i -> i.address().equals(a)) || r.kept.containsKey(a)) {
                    continue;
                }
                if (closed.containsKey(a)) {
                    r.retired.add(closed.get(a));
                } else if (kept.containsKey(a)) {
                    r.kept.put(a, kept.get(a));
                } else if (!retiring.containsKey(a)) { // already closed by an earlier call
                    r.kept.put(a, "it left before it was emptied");
                }
            }
            if (r.answered()) {
                it.remove();
                if (r.clientId != null) {
                    core.reply(r.clientId, new RetireReply(r.retired, r.kept), r.requestId);
                }
            }
        }
    }

    /** Whether every retirement waiting for this worker is past its deadline. */
    private boolean overdue(String address, long now) {
        boolean any = false;
        for (Retirement r : requests) {
            if (r.workers.contains(address)) {
                any = true;
                if (now - r.deadline < 0) {
                    return false;
                }
            }
        }
        return any;
    }

    private static Message.WorkerInfo info(WorkerState w) {
        return new Message.WorkerInfo(w.address, w.name, w.nthreads, w.memoryLimit, w.pid, w.memoryBytes,
                w.processing.size(), w.hasWhat.size(), w.metrics, w.startup);
    }

    // ---------------------------------------------------------------- policies

    /** Runs {@code ps} on one view, checks their suggestions and acts on those that pass. */
    private void runPolicies(List<? extends MemoryManagerPolicy> ps) {
        expireInFlight();
        Map<String, Map<String, List<String>>> copies = new LinkedHashMap<>();
        Map<String, List<String>> drops = new LinkedHashMap<>();
        Map<String, Integer> asked = new HashMap<>(); // copies suggested so far in this run, by key
        for (MemoryManagerPolicy p : ps) {
            List<MemoryManagerPolicy.Suggestion> suggestions;
            try {
                suggestions = p.suggest(new Snapshot());
            } catch (RuntimeException e) {
                core.log(System.Logger.Level.WARNING, "memory manager policy " + p.getClass().getName() + " failed: " + e);
                continue;
            }
            if (suggestions == null) {
                continue;
            }
            for (MemoryManagerPolicy.Suggestion s : suggestions) {
                if (s == null) {
                    continue;
                }
                TaskState ts = core.task(s.key());
                if (ts == null || ts.state != TaskState.MEMORY || ts.whoHas == null) {
                    continue;
                }
                if (s.replicate()) {
                    // a retiring worker wants one copy elsewhere: one on its way, asked by any, is enough
                    int nth = p instanceof RetireWorker ? 1 : asked.merge(ts.key, 1, Integer::sum);
                    String why = replicate(ts, s.worker(), nth, copies);
                    if (why != null && p instanceof RetireWorker r && r.kept == null) {
                        r.kept = why;
                    }
                } else {
                    drop(ts, s.worker(), drops);
                }
            }
        }
        copies.forEach((to, ks) -> core.send(to, new AcquireData(ks)));
        drops.forEach((w, ks) -> core.send(w, new FreeKeys(ks)));
    }

    /**
     * Asks for a copy of {@code ts} on {@code to} (null: the running worker with the most room), the
     * {@code nth} copy of it suggested in this run; null, or why not. A copy still on its way from an
     * earlier run answers one suggestion, as dask's pending replicas do: a policy asking again for
     * what it asked before gets nothing twice.
     */
    private String replicate(TaskState ts, String to, int nth, Map<String, Map<String, List<String>>> copies) {
        HashMap<String, Long> pending = inFlight.get(ts.key);
        if (to == null && pending != null && pending.size() >= nth) {
            return null; // as many are on their way
        }
        long bytes = Math.max(0, ts.nbytes);
        WorkerState target = null;
        if (to != null) {
            WorkerState w = core.worker(to);
            if (w == null || !w.running() || holds(ts, w) || pending != null && pending.containsKey(w.address)
                    || room(w) < bytes) {
                return null; // a named receiver that does not qualify: skipped
            }
            target = w;
        } else {
            boolean anyOther = false;
            long most = -1;
            for (WorkerState w : core.workers()) {
                if (!w.running() || holds(ts, w) || pending != null && pending.containsKey(w.address)) {
                    continue;
                }
                anyOther = true;
                long r = room(w);
                if (r >= bytes && r > most) {
                    most = r;
                    target = w;
                }
            }
            if (target == null) {
                return !anyOther ? "no other running worker to take its results"
                        : "no other worker has room for its result " + ts.key + " (" + bytes + " bytes)";
            }
        }
        List<String> sources = new ArrayList<>(ts.whoHas.length);
        for (WorkerState h : ts.whoHas) {
            sources.add(h.address);
        }
        copies.computeIfAbsent(target.address, t -> new LinkedHashMap<>()).put(ts.key, sources);
        inFlight.computeIfAbsent(ts.key, k -> new HashMap<>(2)).put(target.address, core.now() + IN_FLIGHT_NANOS);
        incoming.merge(target.address, bytes, Long::sum);
        return null;
    }

    /** Bytes {@code w} may still take: its capacity less what it holds and what is on its way. */
    private long room(WorkerState w) {
        return capacity(w) - w.heldBytes - incoming.getOrDefault(w.address, 0L);
    }

    private long capacity(WorkerState w) {
        return w.memoryLimit <= 0 ? Long.MAX_VALUE / 4 : (long) (w.memoryLimit * fraction);
    }

    /**
     * Drops {@code from}'s copy of {@code ts} (null: the holder holding the most, paused ones first)
     * when a copy stays on a worker that is not closing, no task running there reads it, no task
     * reading it runs where it has to be fetched, and as many copies as client.replicate asked for stay.
     */
    private void drop(TaskState ts, String from, Map<String, List<String>> drops) {
        int safe = 0;
        for (WorkerState h : ts.whoHas) {
            if (h.status != WorkerState.CLOSING_GRACEFULLY) {
                safe++;
            }
        }
        if (safe < 2 || ts.whoHas.length <= Math.max(1, ts.replicasWanted)) {
            return;
        }
        Set<WorkerState> reading = readers(ts);
        for (WorkerState r : reading) {
            if (!holds(ts, r)) {
                return; // a task there may be fetching it from any holder: dropping one could fail that fetch
            }
        }
        WorkerState victim = null;
        for (WorkerState h : ts.whoHas) {
            if (h.status == WorkerState.CLOSING_GRACEFULLY || reading.contains(h) || from != null && !h.address.equals(from)) {
                continue;
            }
            boolean paused = h.status == WorkerState.PAUSED;
            if (victim == null || (paused != (victim.status == WorkerState.PAUSED) ? paused
                    : h.heldBytes > victim.heldBytes)) {
                victim = h;
            }
        }
        if (victim != null && ts.removeHolder(victim)) {
            victim.unhold(ts);
            drops.computeIfAbsent(victim.address, w -> new ArrayList<>()).add(ts.key);
        }
    }

    /** The workers where a task reading {@code ts} is processing. */
    private static Set<WorkerState> readers(TaskState ts) {
        if (ts.dependents == null || ts.waiters == 0) {
            return Set.of();
        }
        Set<WorkerState> out = new LinkedHashSet<>();
        for (TaskState d : ts.dependents) {
            if (d.state == TaskState.PROCESSING && d.processingOn != null) {
                out.add(d.processingOn);
            }
        }
        return out;
    }

    private static boolean holds(TaskState ts, WorkerState w) {
        for (WorkerState h : ts.whoHas) {
            if (h == w) {
                return true;
            }
        }
        return false;
    }

    /** Forgets copies that arrived (listed now) or took too long. */
    private void expireInFlight() {
        if (inFlight.isEmpty()) {
            return;
        }
        long now = core.now();
        for (Iterator<Map.Entry<String, HashMap<String, Long>>> it = inFlight.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, HashMap<String, Long>> e = it.next();
            TaskState ts = core.task(e.getKey());
            for (Iterator<Map.Entry<String, Long>> j = e.getValue().entrySet().iterator(); j.hasNext(); ) {
                Map.Entry<String, Long> to = j.next();
                WorkerState w = core.worker(to.getKey());
                boolean arrived = ts != null && ts.whoHas != null && w != null && holds(ts, w);
                if (ts == null || ts.state != TaskState.MEMORY || arrived || now - to.getValue() >= 0) {
                    j.remove();
                    long bytes = ts == null ? 0 : Math.max(0, ts.nbytes);
                    incoming.computeIfPresent(to.getKey(), (k, v) -> v - bytes <= 0 ? null : v - bytes);
                }
            }
            if (e.getValue().isEmpty()) {
                it.remove();
            }
        }
    }

    // ---------------------------------------------------------------- the policies' view

    /** The read-only view of one run, made from the core's state as it reads. */
    final class Snapshot implements MemoryManagerPolicy.View {
        private List<MemoryManagerPolicy.Worker> workers;
        private Map<String, MemoryManagerPolicy.Worker> byAddress;

        @Override
        public Collection<MemoryManagerPolicy.Worker> workers() {
            if (workers == null) {
                workers = new ArrayList<>();
                byAddress = new HashMap<>();
                for (WorkerState w : core.workers()) {
                    MemoryManagerPolicy.Worker v = new MemoryManagerPolicy.Worker(w.address, w.name, w.heldBytes,
                            Math.max(0, w.memoryLimit), capacity(w), w.processing.size(), WorkerState.statusName(w.status));
                    workers.add(v);
                    byAddress.put(w.address, v);
                }
                workers = Collections.unmodifiableList(workers);
            }
            return workers;
        }

        @Override
        public MemoryManagerPolicy.Worker worker(String address) {
            workers();
            return byAddress.get(address);
        }

        @Override
        public Iterable<MemoryManagerPolicy.Key> keys() {
            return () -> keys(false);
        }

        @Override
        public Iterable<MemoryManagerPolicy.Key> replicated() {
            return () -> keys(true);
        }

        @Override
        public MemoryManagerPolicy.Key key(String key) {
            TaskState ts = key == null ? null : core.task(key);
            return ts == null || ts.state != TaskState.MEMORY || ts.whoHas == null ? null : view(ts);
        }

        /** How many tasks execute on {@code address} now (started, not merely queued there). */
        int executingOn(String address) {
            WorkerState w = core.worker(address);
            int n = 0;
            if (w != null) {
                for (TaskState ts : w.processing) {
                    if (ts.executing) {
                        n++;
                    }
                }
            }
            return n;
        }

        /** The results {@code address} holds that someone still needs. */
        List<MemoryManagerPolicy.Key> keysOn(String address) {
            WorkerState w = core.worker(address);
            List<MemoryManagerPolicy.Key> out = new ArrayList<>();
            if (w != null) {
                for (TaskState ts : w.hasWhat) {
                    if (ts.whoHas != null && ts.needed()) {
                        out.add(view(ts));
                    }
                }
            }
            return out;
        }

        private Iterator<MemoryManagerPolicy.Key> keys(boolean replicatedOnly) {
            List<MemoryManagerPolicy.Key> out = new ArrayList<>();
            // the replicated ones from the set kept for them: a walk of every task each tick costs
            // O(tasks) where there may be millions and no copies
            for (TaskState ts : replicatedOnly ? core.replicatedTasks() : core.tasks()) {
                if (ts.state == TaskState.MEMORY && ts.whoHas != null && (!replicatedOnly || ts.whoHas.length > 1)) {
                    out.add(view(ts));
                }
            }
            return Collections.unmodifiableList(out).iterator();
        }

        private MemoryManagerPolicy.Key view(TaskState ts) {
            List<String> holders;
            Set<String> neededOn = Set.of();
            if (ts.whoHas.length == 1) {
                holders = ts.whoHas[0].addressAlone;
            } else {
                List<String> h = new ArrayList<>(ts.whoHas.length);
                for (WorkerState w : ts.whoHas) {
                    h.add(w.address);
                }
                holders = Collections.unmodifiableList(h);
                Set<String> n = new LinkedHashSet<>();
                for (WorkerState w : readers(ts)) {
                    n.add(w.address);
                }
                neededOn = Collections.unmodifiableSet(n);
            }
            return new MemoryManagerPolicy.Key(ts.key, ts.nbytes, holders, ts.waiters, neededOn);
        }
    }
}
