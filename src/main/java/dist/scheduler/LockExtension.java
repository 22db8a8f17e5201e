package dist.scheduler;

import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.LockAcquire;
import dist.protocol.Message.LockGranted;
import dist.protocol.Message.LockRelease;
import dist.protocol.Message.LockReleaseAll;
import dist.protocol.Message.LockReleased;
import dist.protocol.Message.LockRenew;
import dist.protocol.Message.SemaphoreClose;
import dist.protocol.Message.SemaphoreCreate;
import dist.protocol.Message.SemaphoreValue;
import dist.protocol.Message.SharedCount;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Cluster-wide locks, multi-locks and semaphores (dask's LockExtension, MultiLockExtension and
 * SemaphoreExtension in one). Every name has a number of permits (a lock one, a semaphore its
 * count); a lease takes one permit of each of its names at once (or of any {@code count} of them,
 * dask's {@code num_locks}), or waits. Waiters are served first come first served per name: a request
 * waits behind any earlier waiter sharing a name, so two multi-locks over overlapping names never
 * deadlock and never hold part of what they need.
 *
 * <p>Holds are leases: a client renews them; one not renewed for the lease timeout (its process
 * died, or its link is gone) is let go on a tick. A client that closes lets go of everything at
 * once ({@link LockReleaseAll}); a client whose connection merely ends keeps its holds until the
 * lease runs out, so one that reconnects keeps them. Waits end on the tick past their deadline. A
 * lease timeout of {@code inf} (dask's) lets holds last until released or their client closes.
 */
final class LockExtension implements SchedulerExtension {
    static final String LOCK = "lock";
    static final String SEMAPHORE = "semaphore";

    /** A name's permits and the leases holding one. */
    static final class Resource {
        final int permits;
        final LinkedHashSet<String> holders = new LinkedHashSet<>();

        Resource(int permits) {
            this.permits = permits;
        }
    }

    record Hold(String lease, String clientId, String kind, List<String> names, long renewedAt) {}

    /** {@code need}: how many of {@code names} it takes at once, any of them. */
    record Waiter(String lease, String clientId, String kind, List<String> names, int need, long requestId,
                  long deadline) {}

    private final long leaseNanos;
    private final int maxWaiters;
    private final int maxNames;
    private final Map<String, Resource> resources = new HashMap<>();
    private final Map<String, Hold> holds = new HashMap<>();
    /** In arrival order: the order waiters are served in. */
    private final LinkedHashMap<String, Waiter> waiters = new LinkedHashMap<>();
    private SchedulerContext core;

    /**
     * {@code leaseTimeout}: how long a hold lasts without renewal (one beyond {@code Long.MAX_VALUE}
     * nanoseconds, as {@code inf}'s: forever); {@code maxWaiters}: most waits at
     * once; {@code maxNames}: most held lock names and semaphores at once (a peer cannot fill memory).
     */
    LockExtension(Duration leaseTimeout, int maxWaiters, int maxNames) {
        if (!leaseTimeout.isPositive() || maxWaiters < 1 || maxNames < 1) {
            throw new IllegalArgumentException("lease timeout must be positive, max waiters and names at least 1: "
                    + leaseTimeout + ", " + maxWaiters + ", " + maxNames);
        }
        this.leaseNanos = leaseTimeout.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE
                : leaseTimeout.toNanos();
        this.maxWaiters = maxWaiters;
        this.maxNames = maxNames;
    }

    private void checkRoom(int newNames, Object what) {
        if (resources.size() + newNames > maxNames) {
            throw new IllegalArgumentException("too many lock and semaphore names in use (" + maxNames
                    + ", distributed.scheduler.locks.max-names); " + what + " refused");
        }
    }

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(LockAcquire.class, LockRelease.class, LockRenew.class, LockReleaseAll.class,
                SemaphoreCreate.class, SemaphoreValue.class, SemaphoreClose.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        switch (message) {
            case SemaphoreCreate c -> {
                create(c.name(), c.permits());
                answer(clientId, new Ack(), requestId);
            }
            case SemaphoreValue v -> answer(clientId, new SharedCount(semaphore(v.name()).holders.size()), requestId);
            case SemaphoreClose c -> answer(clientId, new SharedCount(close(c.name())), requestId);
            case LockAcquire a -> acquire(clientId, a, requestId);
            case LockRelease r -> answer(clientId, new LockReleased(r.lease(), release(r.lease())), requestId);
            case LockRenew r -> {
                for (String lease : r.leases()) {
                    Hold h = holds.get(lease);
                    if (h != null && h.clientId().equals(clientId)) {
                        holds.put(lease, new Hold(lease, clientId, h.kind(), h.names(), core.now()));
                    }
                }
                answer(clientId, new Ack(), requestId);
            }
            case LockReleaseAll x -> {
                dropClient(clientId, true);
                answer(clientId, new Ack(), requestId);
            }
            default -> throw new IllegalStateException("not a lock message: " + message);
        }
    }

    private void create(String name, int permits) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a semaphore needs a non-empty name");
        }
        if (permits < 1) {
            throw new IllegalArgumentException("semaphore '" + name + "' needs at least 1 permit, not " + permits);
        }
        Resource r = resources.get(key(SEMAPHORE, name));
        if (r != null && r.permits != permits) {
            throw new IllegalArgumentException("semaphore '" + name + "' exists with " + r.permits
                    + " permits; it cannot be made again with " + permits);
        }
        if (r == null) {
            checkRoom(1, "semaphore '" + name + "'");
            resources.put(key(SEMAPHORE, name), new Resource(permits));
        }
    }

    private void acquire(String clientId, LockAcquire a, long requestId) {
        List<String> names = a.names();
        if (names == null || names.isEmpty() || a.lease() == null) {
            throw new IllegalArgumentException("an acquire needs a lease and at least one name");
        }
        if (new HashSet<>(names).size() != names.size()) {
            throw new IllegalArgumentException("names " + names + " repeat one: name each lock once");
        }
        if (a.count() < 0 || a.count() > names.size()) {
            throw new IllegalArgumentException("an acquire of " + names + " takes 1 to " + names.size()
                    + " of them, not " + a.count());
        }
        if (SEMAPHORE.equals(a.kind())) {
            if (names.size() != 1) {
                throw new IllegalArgumentException("a semaphore acquire names one semaphore, not " + names);
            }
            semaphore(names.get(0));
        } else if (!LOCK.equals(a.kind())) {
            throw new IllegalArgumentException("unknown kind '" + a.kind() + "': lock or semaphore");
        }
        for (String n : names) {
            if (n == null || n.isBlank()) {
                throw new IllegalArgumentException("a lock needs a non-empty name");
            }
        }
        if (holds.containsKey(a.lease())) { // asked again (a reconnect re-registering): it holds already
            answer(clientId, new LockGranted(a.lease(), true), requestId);
            return;
        }
        // counted for a wait too: a waiter granted later makes its names then
        checkRoom((int) names.stream().filter(n -> !resources.containsKey(key(a.kind(), n))).count(), names);
        Waiter w = new Waiter(a.lease(), clientId, a.kind(), List.copyOf(names),
                a.count() == 0 ? names.size() : a.count(), requestId, core.now() + Math.max(0, a.timeoutNanos()));
        Waiter earlier = waiters.get(a.lease());
        if (earlier == null && a.timeoutNanos() > 0 && waiters.size() >= maxWaiters
                && !grantable(w, blockedBefore(null))) { // checked before anything changes
            throw new IllegalArgumentException("too many waits for locks and semaphores at once (" + maxWaiters
                    + ", distributed.scheduler.locks.max-waiters); " + names + " refused");
        }
        if (earlier != null) { // the same lease asking again replaces its earlier wait
            waiters.remove(a.lease());
            answer(earlier.clientId(), new LockGranted(a.lease(), false), earlier.requestId());
        }
        Set<String> blocked = blockedBefore(null);
        if (grantable(w, blocked)) {
            grant(w, blocked);
            return;
        }
        if (a.timeoutNanos() <= 0) {
            answer(clientId, new LockGranted(a.lease(), false), requestId);
            if (requestId == 0) {
                core.log(System.Logger.Level.WARNING, "client " + clientId + " held " + a.kind() + " " + names
                        + " before a reconnect, but another holder has it now: its hold is lost");
            }
            return;
        }
        waiters.put(w.lease(), w);
    }

    /** Semaphore {@code name}, which must exist. */
    private Resource semaphore(String name) {
        Resource r = resources.get(key(SEMAPHORE, name));
        if (r == null) {
            throw new IllegalArgumentException("semaphore '" + name + "' is not known (never made, or closed): make it "
                    + "with client.semaphore(name, permits)");
        }
        return r;
    }

    /**
     * Forgets semaphore {@code name}, ending its holds and waits (a waiter is answered not granted),
     * as dask's {@code Semaphore.close}, which warns of what remained. Returns how many it ended.
     */
    private int close(String name) {
        Resource r = resources.remove(key(SEMAPHORE, name));
        if (r == null) {
            return 0; // closing twice is quiet
        }
        int pending = 0;
        for (Iterator<Waiter> it = waiters.values().iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (w.kind().equals(SEMAPHORE) && w.names().contains(name)) {
                it.remove();
                answer(w.clientId(), new LockGranted(w.lease(), false), w.requestId());
                pending++;
            }
        }
        for (String lease : r.holders) {
            holds.remove(lease);
        }
        if (!r.holders.isEmpty() || pending > 0) {
            core.log(System.Logger.Level.WARNING, "Closing semaphore " + name + " but there remain "
                    + (r.holders.isEmpty() ? "" : r.holders.size() + " unreleased leases")
                    + (!r.holders.isEmpty() && pending > 0 ? " and " : "")
                    + (pending > 0 ? pending + " pending leases" : ""));
        }
        if (pending > 0) {
            serve();
        }
        return r.holders.size() + pending;
    }

    /** Names some waiter waits for, of waiters before {@code upTo} (null: all). */
    private Set<String> blockedBefore(Waiter upTo) {
        Set<String> blocked = new HashSet<>();
        for (Waiter w : waiters.values()) {
            if (w == upTo) {
                break;
            }
            for (String n : w.names()) {
                blocked.add(key(w.kind(), n));
            }
        }
        return blocked;
    }

    private boolean grantable(Waiter w, Set<String> blocked) {
        return free(w, blocked).size() >= w.need();
    }

    /** Those of {@code w}'s names that are free now and that no earlier waiter waits for, in its order. */
    private List<String> free(Waiter w, Set<String> blocked) {
        List<String> out = new ArrayList<>(w.names().size());
        for (String n : w.names()) {
            String k = key(w.kind(), n);
            Resource r = resources.get(k);
            if (!blocked.contains(k) && (r == null || r.holders.size() < r.permits)) {
                out.add(n);
            }
        }
        return out;
    }

    /** Grants {@code w} the first {@code need} of its free names (called once it is grantable). */
    private void grant(Waiter w, Set<String> blocked) {
        List<String> taken = free(w, blocked).subList(0, w.need());
        for (String n : taken) {
            resources.computeIfAbsent(key(w.kind(), n), k -> new Resource(1)).holders.add(w.lease());
        }
        holds.put(w.lease(), new Hold(w.lease(), w.clientId(), w.kind(), List.copyOf(taken), core.now()));
        answer(w.clientId(), new LockGranted(w.lease(), true), w.requestId());
    }

    /** Lets go of {@code lease}'s hold or wait; true when it held. */
    private boolean release(String lease) {
        Waiter w = waiters.remove(lease);
        if (w != null) {
            answer(w.clientId(), new LockGranted(lease, false), w.requestId());
            serve();
        }
        Hold h = holds.remove(lease);
        if (h == null) {
            return false;
        }
        for (String n : h.names()) {
            String k = key(h.kind(), n);
            Resource r = resources.get(k);
            r.holders.remove(lease);
            if (h.kind().equals(LOCK) && r.holders.isEmpty()) {
                resources.remove(k); // made on first use, so forgotten when free: the table stays small
            }
        }
        serve();
        return true;
    }

    /** Grants every waiter that can go now, in arrival order. */
    private void serve() {
        Set<String> blocked = new HashSet<>();
        for (Iterator<Waiter> it = waiters.values().iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (grantable(w, blocked)) {
                it.remove();
                grant(w, blocked);
            } else {
                for (String n : w.names()) {
                    blocked.add(key(w.kind(), n));
                }
            }
        }
    }

    @Override
    public void tick() {
        long now = core.now();
        boolean changed = false;
        for (Iterator<Waiter> it = waiters.values().iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (now >= w.deadline()) {
                it.remove();
                answer(w.clientId(), new LockGranted(w.lease(), false), w.requestId());
                changed = true;
            }
        }
        List<Hold> expired = new ArrayList<>();
        for (Hold h : holds.values()) {
            if (leaseNanos != Long.MAX_VALUE && now - h.renewedAt() >= leaseNanos) {
                expired.add(h);
            }
        }
        for (Hold h : expired) {
            core.log(System.Logger.Level.INFO, "the lease of " + h.kind() + " " + h.names() + " held by client "
                    + h.clientId() + " ran out (not renewed): released");
            release(h.lease());
        }
        if (changed) {
            serve(); // a waiter that timed out may have blocked later ones
        }
    }

    /** A connection ended: its waits can no longer be answered; its holds last until their leases run out. */
    @Override
    public void clientGone(String clientId) {
        dropClient(clientId, false);
    }

    private void dropClient(String clientId, boolean holdsToo) {
        boolean changed = waiters.values().removeIf(w -> w.clientId().equals(clientId));
        if (holdsToo) {
            for (Hold h : List.copyOf(holds.values())) {
                if (h.clientId().equals(clientId)) {
                    release(h.lease());
                }
            }
        }
        if (changed) {
            serve();
        }
    }

    /** For tests: the leases holding {@code name} of {@code kind}. */
    Set<String> holders(String kind, String name) {
        Resource r = resources.get(key(kind, name));
        return r == null ? Set.of() : Set.copyOf(r.holders);
    }

    int waiting() {
        return waiters.size();
    }

    @Override
    public void validate() {
        for (Map.Entry<String, Resource> e : resources.entrySet()) {
            if (e.getValue().holders.size() > e.getValue().permits) {
                throw new IllegalStateException(e.getKey() + " has " + e.getValue().holders.size() + " holders for "
                        + e.getValue().permits + " permits");
            }
            for (String lease : e.getValue().holders) {
                if (!holds.containsKey(lease)) {
                    throw new IllegalStateException(e.getKey() + " is held by unknown lease " + lease);
                }
            }
        }
    }

    /** Replies unless the message was sent one way (request id 0), as a reconnect's re-registration is. */
    private void answer(String to, Message m, long requestId) {
        if (requestId != 0) {
            core.reply(to, m, requestId);
        }
    }

    private static String key(String kind, String name) {
        return kind + ":" + name;
    }
}
