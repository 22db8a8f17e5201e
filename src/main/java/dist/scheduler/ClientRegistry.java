package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.RegisterClient;
import dist.protocol.Message.CloseWorker;
import dist.protocol.Message.RegisterNanny;
import dist.protocol.Message.RestartWorker;
import dist.protocol.Message.WorkerDied;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who is connected besides workers: clients that registered, and nannies with the worker each runs.
 * A nanny says how its worker died ({@link WorkerDied}: exit code, signal, memory); when a nannied
 * worker's connection ends first, its removal waits for that report until a deadline
 * ({@link SchedulerConfig#nannyReportWait()} after the loss, checked on each tick), so the reason
 * users see in a {@code KilledWorker} error is the nanny's, not "connection closed".
 */
final class ClientRegistry implements SchedulerExtension {

    /** A lost worker whose removal waits for its nanny's report until {@code deadline}. */
    private record Pending(String reason, long deadline) {}

    private final LinkedHashSet<String> clients = new LinkedHashSet<>();
    /** Nanny id to the address of the worker it runs (null while none runs). */
    private final LinkedHashMap<String, String> nannies = new LinkedHashMap<>();
    /** In order of loss, so deadlines come in order too. */
    private final LinkedHashMap<WorkerState, Pending> pending = new LinkedHashMap<>();
    /**
     * Worker processes a nanny is replacing, by address: the old process, still alive until its
     * nanny ends it, may not register again (its reconnect would count it among the new ones).
     */
    private final LinkedHashMap<String, Replaced> replaced = new LinkedHashMap<>();
    /** Retired workers whose nanny had not said it runs them yet: it is told to close when it does. */
    private final LinkedHashSet<String> retired = new LinkedHashSet<>();
    private static final int MAX_RETIRED = 1024;
    private SchedulerContext core;

    /** An old worker process (its pid) that may not register again before {@code deadline}. */
    private record Replaced(long pid, long deadline) {}

    /** How long an old process of a restart is refused: far beyond any nanny's time to end it. */
    static final long REPLACED_NANOS = 120_000_000_000L;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(RegisterClient.class, RegisterNanny.class, WorkerDied.class, Message.RestartWorkers.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        switch (message) {
            case RegisterClient r -> {
                clients.add(clientId);
                ack(clientId, requestId);
            }
            case RegisterNanny n -> {
                nannies.put(clientId, n.worker());
                ack(clientId, requestId);
                if (n.worker() != null && retired.remove(n.worker())) {
                    core.send(clientId, new CloseWorker("its worker " + n.worker() + " was retired"));
                }
            }
            case WorkerDied d -> workerDied(d);
            case Message.RestartWorkers r -> {
                restartWorkers(clientId, r.workers());
                ack(clientId, requestId);
            }
            default -> throw new IllegalStateException("not a registration: " + message);
        }
    }

    private void ack(String to, long requestId) {
        if (requestId != 0) {
            core.reply(to, new Ack(), requestId);
        }
    }

    /** A nanny reports how its worker died; if the scheduler still counts that worker, it goes now. */
    private void workerDied(WorkerDied d) {
        WorkerState ws = d.worker() == null ? null : core.worker(d.worker());
        if (ws != null) {
            pending.remove(ws);
            core.removeWorker(ws, d.reason() == null ? "the worker process died" : d.reason());
        }
    }

    @Override
    public boolean holdsRemoval(WorkerState worker, String reason) {
        long wait = core.config().nannyReportWait().toNanos();
        if (wait <= 0 || !nannies.containsValue(worker.address)) {
            return false;
        }
        pending.putIfAbsent(worker, new Pending(reason, core.now() + wait));
        return true;
    }

    @Override
    public String refusesWorker(String address, Message.RegisterWorker r) {
        Replaced old = replaced.get(address);
        if (old == null || old.pid() != r.pid() || core.now() - old.deadline() >= 0) {
            return null;
        }
        return "worker " + address + " (pid " + r.pid() + ") is being replaced by its nanny after a restart;"
                + " the new process registers instead";
    }

    /** The old process at {@code ws}'s address may not come back: its nanny is replacing it. */
    private void replacing(WorkerState ws) {
        if (ws.pid > 0) {
            replaced.put(ws.address, new Replaced(ws.pid, core.now() + REPLACED_NANOS));
        }
    }

    @Override
    public void tick() {
        long now = core.now();
        replaced.values().removeIf(r -> now - r.deadline() >= 0);
        ArrayList<Map.Entry<WorkerState, Pending>> due = new ArrayList<>();
        for (Iterator<Map.Entry<WorkerState, Pending>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<WorkerState, Pending> e = it.next();
            if (now - e.getValue().deadline() < 0) {
                break; // in order of loss: the rest are later
            }
            due.add(e);
            it.remove();
        }
        for (Map.Entry<WorkerState, Pending> e : due) {
            if (core.worker(e.getKey().address) == e.getKey()) {
                core.removeWorker(e.getKey(), e.getValue().reason()); // no report came: the connection's reason
            }
        }
    }

    @Override
    public void workerRemoved(WorkerState worker) {
        pending.remove(worker);
    }

    @Override
    public void clientGone(String clientId) {
        clients.remove(clientId);
        nannies.remove(clientId);
    }

    /** Each nanny ends its worker and starts another, which registers anew: the old one is removed now. */
    @Override
    public void clusterRestarted(String clientId, String reason) {
        for (Map.Entry<String, String> n : nannies.entrySet()) {
            core.send(n.getKey(), new RestartWorker(reason));
            WorkerState ws = n.getValue() == null ? null : core.worker(n.getValue());
            if (ws != null) {
                replacing(ws);
                core.removeWorker(ws, reason);
            }
        }
    }

    /**
     * dask's restart_workers: each named worker's nanny ends it and starts another, which registers
     * anew; the old one is removed now, so what only it held is recomputed. Checks every name first:
     * a refusal changes nothing.
     */
    private void restartWorkers(String clientId, List<String> names) {
        if (names == null || names.isEmpty()) {
            throw new IllegalArgumentException("RestartWorkers names no worker");
        }
        LinkedHashMap<WorkerState, String> chosen = new LinkedHashMap<>();
        ArrayList<String> unknown = new ArrayList<>();
        ArrayList<String> bare = new ArrayList<>();
        for (String name : names) {
            WorkerState match = null;
            for (WorkerState w : core.workers()) {
                if (name != null && w.matches(name)) {
                    match = w;
                    break;
                }
            }
            if (match == null) {
                unknown.add(name);
                continue;
            }
            String nanny = nannyOf(match.address);
            if (nanny == null) {
                bare.add(match.address);
            } else {
                chosen.put(match, nanny);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("no connected worker matches " + unknown);
        }
        if (!bare.isEmpty()) {
            throw new IllegalArgumentException("Restarting workers requires a nanny to be used. Worker(s) " + bare
                    + " do not have a nanny.");
        }
        String reason = "restarted by client " + clientId;
        for (Map.Entry<WorkerState, String> e : chosen.entrySet()) {
            core.send(e.getValue(), new RestartWorker(reason));
            if (core.worker(e.getKey().address) == e.getKey()) {
                replacing(e.getKey());
                core.removeWorker(e.getKey(), reason);
            }
        }
        core.log(System.Logger.Level.INFO, "workers " + chosen.keySet() + " restarted by client " + clientId);
    }

    /** The nanny id of each worker whose nanny has said it runs it, by worker address. */
    Map<String, String> nanniesByWorker() {
        Map<String, String> out = new LinkedHashMap<>();
        nannies.forEach((nanny, worker) -> {
            if (worker != null) {
                out.put(worker, nanny);
            }
        });
        return out;
    }

    /** The nanny that said it runs the worker at {@code workerAddress}, or null. */
    String nannyOf(String workerAddress) {
        for (Map.Entry<String, String> n : nannies.entrySet()) {
            if (workerAddress.equals(n.getValue())) {
                return n.getKey();
            }
        }
        return null;

    }

    /**
     * The worker at {@code address} was retired: its nanny closes too, else it would start a fresh
     * worker; a nanny that has not said yet that it runs that worker is told when it does.
     */
    void workerRetired(String address, String reason) {
        for (Map.Entry<String, String> n : nannies.entrySet()) {
            if (address.equals(n.getValue())) {
                core.send(n.getKey(), new CloseWorker(reason));
                return;
            }
        }
        retired.add(address);
        if (retired.size() > MAX_RETIRED) { // bare workers never clear theirs
            retired.remove(retired.iterator().next());
        }
    }

    /** How many registered workers a nanny has said it runs. */
    int workersWithNanny() {
        int n = 0;
        for (String w : nannies.values()) {
            if (w != null && core.worker(w) != null) {
                n++;
            }
        }
        return n;
    }

    /** Workers lost whose removal waits for a nanny's report; for tests. */
    int pendingRemovals() {
        return pending.size();
    }

    /** Registered client ids, in order of registration. */
    Set<String> clients() {
        return java.util.Collections.unmodifiableSet(clients);
    }
}
