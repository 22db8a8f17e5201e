package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.ActorPlaced;
import dist.protocol.Message.CreateActor;
import dist.protocol.Message.ReleaseActor;
import dist.protocol.Message.StartActor;
import dist.protocol.Message.StopActor;
import dist.protocol.Message.WhereActor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Actors, as dask's: which worker holds which actor, placed as a task would be (worker
 * restrictions, resources), the fewest actors first. Calls do not pass here: callers ask where an
 * actor lives and talk to its worker. When that worker leaves, an actor with restarts left is built
 * again on another worker from its constructor bytes (its state is lost); one without is lost, and
 * callers asking for it learn which worker it went with. The constructor stays opaque bytes here.
 */
final class ActorExtension implements SchedulerExtension {

    /** One actor; {@code worker} is null once lost. */
    static final class Actor {
        final String id;
        final String name;
        final String owner;
        final byte[] constructor;
        final List<String> workers;
        final boolean allowOtherWorkers;
        final Map<String, Double> resources;
        final int restarts;
        final boolean concurrent;
        String worker;
        int generation;
        /** Told by its owner to a scheduler that came back, on a worker not registered yet: since when (nanoseconds). */
        long awaitingSince = -1;

        Actor(String owner, CreateActor c) {
            this.id = c.actorId();
            this.name = c.name();
            this.owner = owner;
            this.constructor = c.constructor();
            this.workers = c.workers() == null ? List.of() : List.copyOf(c.workers());
            this.allowOtherWorkers = c.allowOtherWorkers();
            this.resources = c.resources() == null ? Map.of() : Map.copyOf(c.resources());
            this.restarts = c.restarts();
            this.concurrent = c.concurrent();
        }

        String describe() {
            return "actor " + name + " (" + id + ")";
        }
    }

    private final Map<String, Actor> actors = new LinkedHashMap<>();
    /** Lost actors' reasons, kept so callers learn why; bounded by the config key below. */
    private final LinkedHashMap<String, String> lost = new LinkedHashMap<>();
    private SchedulerContext core;
    private int maxActors;
    private int keptLost;

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
        this.maxActors = dist.config.Config.getInt("distributed.scheduler.actors.max");
        this.keptLost = 1000;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(CreateActor.class, WhereActor.class, ReleaseActor.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        switch (message) {
            case CreateActor c -> core.reply(clientId, create(clientId, c), requestId);
            case WhereActor w -> core.reply(clientId, where(w.actorId()), requestId);
            case ReleaseActor r -> {
                release(r.actorId());
                if (requestId != 0) {
                    core.reply(clientId, new Message.Ack(), requestId);
                }
            }
            default -> throw new IllegalStateException("not an actor message: " + message);
        }
    }

    private ActorPlaced create(String clientId, CreateActor c) {
        if (c.at() != null) {
            return adopt(clientId, c);
        }
        if (c.actorId() == null || c.actorId().isBlank() || c.constructor() == null) {
            throw new IllegalArgumentException("CreateActor needs an actor id and constructor bytes");
        }
        if (actors.containsKey(c.actorId())) {
            throw new IllegalArgumentException("an actor with id " + c.actorId() + " exists already");
        }
        if (c.restarts() < 0) {
            throw new IllegalArgumentException("actor restarts must be >= 0, got " + c.restarts());
        }
        if (actors.size() >= maxActors) {
            throw new IllegalArgumentException("the scheduler holds " + actors.size()
                    + " actors, the most distributed.scheduler.actors.max allows; release some first");
        }
        Actor a = new Actor(clientId, c);
        WorkerState w = choose(a, null);
        if (w == null) {
            throw new IllegalArgumentException("no worker can hold " + a.describe() + ": "
                    + (core.workers().isEmpty() ? "no workers are connected"
                    : "none matches workers=" + a.workers + " resources=" + a.resources));
        }
        actors.put(a.id, a);
        place(a, w);
        return new ActorPlaced(a.id, a.worker, a.generation);
    }

    /**
     * An owner tells a scheduler that came back of an actor it holds: it lives on {@code at} still,
     * so nothing is built. A worker not back yet gets the unknown-key grace to return; past it the
     * actor counts as lost with that worker (restarted elsewhere when it may be).
     */
    private ActorPlaced adopt(String clientId, CreateActor c) {
        Actor known = c.actorId() == null ? null : actors.get(c.actorId());
        if (known != null) {
            return new ActorPlaced(known.id, known.worker, known.generation);
        }
        if (c.actorId() == null || c.constructor() == null || c.restarts() < 0) {
            throw new IllegalArgumentException("CreateActor needs an actor id, constructor bytes and restarts >= 0");
        }
        Actor a = new Actor(clientId, c);
        a.worker = c.at();
        if (core.worker(c.at()) == null) {
            a.awaitingSince = core.now();
        }
        actors.put(a.id, a);
        return new ActorPlaced(a.id, a.worker, a.generation);
    }

    @Override
    public void workerAdded(WorkerState worker) {
        for (Actor a : actors.values()) {
            if (a.awaitingSince >= 0 && worker.address.equals(a.worker)) {
                a.awaitingSince = -1;
            }
        }
    }

    @Override
    public void tick() {
        long grace = core.config().unknownKeyGrace().toNanos();
        for (Actor a : new ArrayList<>(actors.values())) {
            if (a.awaitingSince >= 0 && core.now() - a.awaitingSince >= grace) {
                a.awaitingSince = -1;
                lose(a, a.worker);
            }
        }
    }

    private ActorPlaced where(String id) {
        Actor a = id == null ? null : actors.get(id);
        if (a == null) {
            String why = id == null ? null : lost.get(id);
            throw new IllegalArgumentException(why != null ? why : "no actor " + id + " (released, or never created)");
        }
        return new ActorPlaced(a.id, a.worker, a.generation);
    }

    private void release(String id) {
        Actor a = id == null ? null : actors.remove(id);
        if (a != null && a.worker != null) {
            core.send(a.worker, new StopActor(a.id));
        }
    }

    private void place(Actor a, WorkerState w) {
        a.worker = w.address;
        core.send(w.address, new StartActor(a.id, a.name, a.constructor, a.concurrent, a.generation));
    }

    /** The matching worker with the fewest actors, never {@code excluded}; null when none. */
    private WorkerState choose(Actor a, String excluded) {
        Map<String, Integer> counts = new HashMap<>();
        for (Actor x : actors.values()) {
            if (x.worker != null) {
                counts.merge(x.worker, 1, Integer::sum);
            }
        }
        WorkerState best = null;
        int bestCount = Integer.MAX_VALUE;
        for (int pass = 0; pass < 2 && best == null; pass++) {
            boolean restricted = pass == 0 && !a.workers.isEmpty();
            if (pass == 1 && !a.workers.isEmpty() && !a.allowOtherWorkers) {
                break;
            }
            for (WorkerState w : core.workers()) {
                if (w.address.equals(excluded) || !w.offers(a.resources)) {
                    continue;
                }
                if (restricted && a.workers.stream().noneMatch(w::matches)) {
                    continue;
                }
                int n = counts.getOrDefault(w.address, 0);
                if (n < bestCount) {
                    best = w;
                    bestCount = n;
                }
            }
        }
        return best;
    }

    @Override
    public void workerRemoved(WorkerState worker) {
        for (Actor a : new ArrayList<>(actors.values())) {
            if (worker.address.equals(a.worker)) {
                lose(a, worker.address);
            }
        }
    }

    /** {@code a}'s worker is gone: built again elsewhere while restarts are left, else lost. */
    private void lose(Actor a, String address) {
        WorkerState next = a.generation < a.restarts ? choose(a, address) : null;
        if (next != null) {
            a.generation++;
            core.log(System.Logger.Level.INFO, a.describe() + " was lost with worker " + address
                    + "; built again on " + next.address + " (restart " + a.generation + " of " + a.restarts
                    + "; its state is lost)");
            place(a, next);
            return;
        }
        String why = a.describe() + " was lost with worker " + address
                + (a.restarts == 0 ? "" : a.generation >= a.restarts
                ? " after " + a.restarts + " restart" + (a.restarts == 1 ? "" : "s") + " (no restarts left)"
                : " and no other worker can hold it");
        core.log(System.Logger.Level.WARNING, why);
        actors.remove(a.id);
        lost.put(a.id, why);
        if (lost.size() > keptLost) {
            lost.remove(lost.keySet().iterator().next());
        }
    }

    @Override
    public void clientGone(String clientId) {
        for (Actor a : new ArrayList<>(actors.values())) {
            if (a.owner.equals(clientId)) {
                release(a.id);
            }
        }
    }

    /** The actors by id, for tests. */
    Map<String, Actor> actors() {
        return actors;
    }

    @Override
    public void validate() {
        for (Actor a : actors.values()) {
            if (a.awaitingSince < 0 && (a.worker == null || core.worker(a.worker) == null)) {
                throw new IllegalStateException(a.describe() + " is on " + a.worker + ", which is not a registered worker");
            }
        }
    }
}
