package dist.scheduler;

import dist.comm.Connection;
import dist.comm.ConnectionClosedException;
import dist.comm.Peer;
import dist.protocol.Message;
import dist.protocol.Message.ClassBytes;
import dist.protocol.Message.ClassRequest;
import dist.protocol.Message.UploadJar;
import dist.protocol.Role;

import java.lang.System.Logger.Level;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The scheduler's part in moving code: relays class requests from workers to the client that
 * submitted the task, caches the class files (as bytes, never loaded or decoded here), and keeps
 * each client's uploaded jars for every current and future worker, marked as that client's.
 *
 * <p>Identity is the connection's: a client's classes and jars are filed under the id its own
 * connection registered, and a worker may ask for the classes of a client only once it was sent a
 * task of that client. What it keeps is bounded (classes by count and bytes, least recently used
 * first; requests waiting on a client; jars by count and bytes) and dropped when the client leaves.
 *
 * <p>Runs on connection threads, apart from the scheduler's state machine: code is not part of
 * the task graph and must not wait behind it.
 */
final class CodeRelay {
    private static final System.Logger LOG = System.getLogger("dist.scheduler");
    /** A forwarded request with no answer for this long is sent again when another worker asks. */
    private static final long RESEND_NANOS = TimeUnit.SECONDS.toNanos(5);
    static final int MAX_CLASSES = 16_384;
    static final long MAX_CLASS_BYTES = 64L << 20;
    /** Classes being fetched from clients at once, and workers waiting on one of them. */
    static final int MAX_PENDING = 4096;
    static final int MAX_WAITERS = 1024;
    static final int MAX_JARS_PER_CLIENT = 64;
    static final long MAX_JAR_BYTES = 512L << 20;

    private record Waiter(Connection worker, long requestId) {}

    private static final class Pending {
        final List<Waiter> waiters = new ArrayList<>();
        long askedAt;
        final long createdAt;

        Pending(long now) {
            this.createdAt = now;
        }
    }

    private final Function<String, Peer> routes;
    private final Duration requestTimeout;
    private final ClassCache cache;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    /** Registered clients, by the id their connection registered. */
    private final Set<String> clients = ConcurrentHashMap.newKeySet();
    /** Registered workers by address. */
    private final Map<String, Connection> workers = new ConcurrentHashMap<>();
    /** Worker address to the clients whose tasks it was sent: whose classes it may ask for. */
    private final Map<String, Set<String>> clientsOf = new ConcurrentHashMap<>();
    private final Map<String, List<UploadJar>> jars = new ConcurrentHashMap<>();
    private final AtomicLong jarBytes = new AtomicLong();
    /** Jar bookkeeping (the lists and their byte count) changes under this lock. */
    private final ReentrantLock jarLock = new ReentrantLock();

    CodeRelay(Function<String, Peer> routes, Duration requestTimeout) {
        this(routes, requestTimeout, new ClassCache(MAX_CLASSES, MAX_CLASS_BYTES));
    }

    CodeRelay(Function<String, Peer> routes, Duration requestTimeout, ClassCache cache) {
        this.routes = routes;
        this.requestTimeout = requestTimeout;
        this.cache = cache;
    }

    /** Handles a code message from {@code sender} (named {@code identity}); false when {@code m} is not one. */
    boolean handle(Peer sender, String identity, Message m, long requestId) {
        switch (m) {
            case ClassRequest r when sender instanceof Connection w
                    && (w.peerRole() == Role.WORKER || w.peerRole() == Role.NANNY) -> classRequest(w, identity, r, requestId);
            case ClassBytes b when sender.peerRole() != Role.WORKER -> classBytes(identity, b);
            case UploadJar j when sender.peerRole() != Role.WORKER -> uploadJar(sender, identity, j, requestId);
            default -> {
                return false;
            }
        }
        return true;
    }

    private static String slot(String clientId, String className) {
        return clientId + '\0' + className;
    }

    /** {@code clientId} was registered by its own connection. */
    void clientRegistered(String clientId) {
        clients.add(clientId);
    }

    /** The scheduler is about to send a task of {@code clientId} to worker {@code worker}. */
    void taskSent(String worker, String clientId) {
        Set<String> s = clientsOf.get(worker);
        if (s == null || !s.contains(clientId)) {
            if (workers.containsKey(worker)) {
                clientsOf.computeIfAbsent(worker, k -> ConcurrentHashMap.newKeySet()).add(clientId);
            }
        }
    }

    private void classRequest(Connection worker, String identity, ClassRequest r, long requestId) {
        if (r.clientId() == null || r.className() == null) {
            reply(worker, requestId, new Message.ErrorReply("ClassRequest needs a client id and a class name"));
            return;
        }
        Set<String> mayAsk = clientsOf.get(identity);
        if (workers.get(identity) != worker || mayAsk == null || !mayAsk.contains(r.clientId())) {
            LOG.log(Level.WARNING, "refused a request for class " + r.className() + " of client " + r.clientId()
                    + " from " + worker + " (" + identity + "): it was sent no task of that client");
            reply(worker, requestId, new Message.ErrorReply("this connection was sent no task of client "
                    + r.clientId() + ", so it may not ask for its classes"));
            return;
        }
        String slot = slot(r.clientId(), r.className());
        byte[] cached = cache.get(slot);
        if (cached != null) {
            reply(worker, requestId, new ClassBytes(r.clientId(), r.className(), cached));
            return;
        }
        Peer client = routes.apply(r.clientId());
        if (client == null || client.peerRole() == Role.WORKER || !clients.contains(r.clientId())) {
            reply(worker, requestId, new Message.ErrorReply("client " + r.clientId()
                    + " is not connected, so class " + r.className() + " cannot be fetched from it; "
                    + "put the class on the worker's class path or upload its jar"));
            return;
        }
        long now = System.nanoTime();
        if (pending.size() >= MAX_PENDING) {
            expire(now);
        }
        boolean[] ask = {false};
        String[] refused = {null};
        // compute is atomic per key, so the waiter list and the resend decision need no other lock
        pending.compute(slot, (k, cur) -> {
            if (cur == null && pending.size() >= MAX_PENDING) {
                refused[0] = MAX_PENDING + " classes are being fetched from clients already";
                return null;
            }
            Pending q = cur == null ? new Pending(now) : cur;
            if (q.waiters.size() >= MAX_WAITERS) {
                refused[0] = MAX_WAITERS + " requests wait on this class already";
                return q;
            }
            q.waiters.add(new Waiter(worker, requestId));
            if (q.askedAt == 0 || now - q.askedAt > RESEND_NANOS) {
                q.askedAt = now;
                ask[0] = true;
            }
            return q;
        });
        if (refused[0] != null) {
            LOG.log(Level.WARNING, "refused a request for class " + r.className() + " from " + identity + ": "
                    + refused[0]);
            reply(worker, requestId, new Message.ErrorReply("class " + r.className() + " cannot be fetched now: "
                    + refused[0] + "; try again"));
            return;
        }
        if (ask[0]) {
            try {
                client.send(new ClassRequest(r.clientId(), r.className()));
            } catch (ConnectionClosedException e) {
                answer(slot, new Message.ErrorReply("client " + r.clientId() + " went away before sending class "
                        + r.className()));
            }
        }
    }

    /** Answers requests a client left unanswered past the workers' own deadline. */
    private void expire(long now) {
        long limit = requestTimeout.toNanos() + RESEND_NANOS;
        for (Map.Entry<String, Pending> e : pending.entrySet()) {
            if (now - e.getValue().createdAt > limit) {
                answer(e.getKey(), new Message.ErrorReply("the client did not send class "
                        + e.getKey().substring(e.getKey().indexOf('\0') + 1) + " in time"));
            }
        }
    }

    private void classBytes(String clientId, ClassBytes b) {
        if (b.className() == null || !clients.contains(clientId)) {
            return;
        }
        // the sender's identity names the client: a client cannot answer for another
        String slot = slot(clientId, b.className());
        if (b.bytes() != null) {
            cache.put(slot, b.bytes());
        }
        answer(slot, new ClassBytes(clientId, b.className(), b.bytes()));
    }

    private void answer(String slot, Message m) {
        Pending p = pending.remove(slot);
        if (p == null) {
            return;
        }
        for (Waiter w : p.waiters) {
            reply(w.worker(), w.requestId(), m);
        }
    }

    /**
     * A client left: workers waiting on its classes get an answer now rather than a timeout, its
     * classes and jars are dropped here, and every worker is told to drop its loader.
     */
    void clientGone(String clientId) {
        if (!clients.remove(clientId)) {
            return;
        }
        String prefix = clientId + '\0';
        for (String slot : List.copyOf(pending.keySet())) {
            if (slot.startsWith(prefix)) {
                answer(slot, new Message.ErrorReply("client " + clientId + " disconnected before sending class "
                        + slot.substring(prefix.length())));
            }
        }
        cache.removeClient(clientId);
        jarLock.lock();
        try {
            List<UploadJar> gone = jars.remove(clientId);
            if (gone != null) {
                for (UploadJar j : gone) {
                    jarBytes.addAndGet(-j.bytes().length);
                }
            }
        } finally {
            jarLock.unlock();
        }
        for (Set<String> s : clientsOf.values()) {
            s.remove(clientId);
        }
        for (Connection w : workers.values()) {
            try {
                w.send(new Message.ForgetClient(clientId));
            } catch (ConnectionClosedException e) {
                // gone too
            }
        }
    }

    private void uploadJar(Peer client, String identity, UploadJar j, long requestId) {
        if (!clients.contains(identity)) {
            reply(client, requestId, new Message.ErrorReply("UploadJar from a connection that registered no client;"
                    + " register first"));
            return;
        }
        if (j.bytes() == null || j.bytes().length == 0) {
            reply(client, requestId, new Message.ErrorReply("UploadJar " + j.name() + " has no bytes"));
            return;
        }
        String hash = sha256(j.bytes());
        UploadJar marked = new UploadJar(j.name(), j.bytes(), identity);
        String refusal = null;
        jarLock.lock();
        try {
            List<UploadJar> mine = clients.contains(identity)
                    ? jars.computeIfAbsent(identity, k -> new CopyOnWriteArrayList<>()) : null;
            UploadJar same = mine == null ? null
                    : mine.stream().filter(k -> sha256(k.bytes()).equals(hash)).findFirst().orElse(null);
            if (mine == null) {
                refusal = "client " + identity + " left while its jar arrived";
            } else if (same != null) {
                // the latest upload wins on a worker, so a joining worker must get this one last too
                mine.remove(same);
                mine.add(same);
            } else {
                if (mine.size() >= MAX_JARS_PER_CLIENT) {
                    refusal = "client " + identity + " uploaded " + MAX_JARS_PER_CLIENT + " jars already; merge them"
                            + " into fewer";
                } else if (jarBytes.get() + j.bytes().length > MAX_JAR_BYTES) {
                    refusal = "the scheduler holds " + (MAX_JAR_BYTES >> 20) + " MiB of uploaded jars already; jar "
                            + j.name() + " does not fit (clients that leave free theirs)";
                } else {
                    mine.add(marked);
                    jarBytes.addAndGet(j.bytes().length);
                }
            }
        } finally {
            jarLock.unlock();
        }
        if (refusal != null) {
            LOG.log(Level.WARNING, "refused jar " + j.name() + " of client " + identity + ": " + refusal);
            reply(client, requestId, new Message.ErrorReply(refusal));
            return;
        }
        LOG.log(Level.INFO, "client " + identity + " uploaded jar " + j.name() + " (" + j.bytes().length + " bytes)");
        Thread.ofVirtual().name("dist-scheduler-jar").start(() -> {
            List<CompletableFuture<Message>> acks = new ArrayList<>();
            for (Connection w : workers.values()) {
                try {
                    acks.add(w.request(marked, requestTimeout));
                } catch (RuntimeException e) {
                    LOG.log(Level.DEBUG, "could not send jar " + j.name() + " to a worker: " + e);
                }
            }
            List<String> failures = new ArrayList<>();
            for (CompletableFuture<Message> f : acks) {
                try {
                    Message a = f.get(requestTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
                    if (!(a instanceof Message.Ack)) {
                        failures.add(String.valueOf(a));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (Exception e) {
                    // a worker that died meanwhile is no failure of the upload: a new one gets the jar on joining
                    LOG.log(Level.DEBUG, "a worker did not confirm jar " + j.name() + ": " + e);
                }
            }
            reply(client, requestId, failures.isEmpty() ? new Message.Ack()
                    : new Message.ErrorReply("jar " + j.name() + " was refused by " + failures.size()
                    + " worker(s): " + failures.get(0)));
        });
    }

    /** A worker registered as {@code address}: it gets every client's jars, ahead of any task. */
    void workerJoined(Connection worker, String address) {
        workers.put(address, worker);
        clientsOf.remove(address); // a new link is sent its tasks again
        for (List<UploadJar> list : jars.values()) {
            for (UploadJar j : list) {
                try {
                    worker.send(j);
                } catch (ConnectionClosedException e) {
                    return;
                }
            }
        }
    }

    /**
     * A nanny registered as {@code nannyId}: it may ask for the classes of the clients whose nanny
     * plugins it was sent, as a worker for its tasks' (jars are for workers: it gets none).
     */
    void nannyJoined(Connection nanny, String nannyId) {
        workers.put(nannyId, nanny);
        clientsOf.remove(nannyId);
    }

    /** The worker registered as {@code address} on {@code worker} left (or the nanny of that id). */
    void workerGone(String address, Connection worker) {
        if (workers.remove(address, worker)) {
            clientsOf.remove(address);
        }
    }

    /** Class files cached, for tests and diagnostics. */
    int cachedClasses() {
        return cache.size();
    }

    private static void reply(Peer c, long requestId, Message m) {
        if (requestId == 0) {
            return;
        }
        try {
            c.reply(requestId, m);
        } catch (ConnectionClosedException e) {
            LOG.log(Level.DEBUG, "a code reply was dropped: connection closed");
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks SHA-256, which every Java SE runtime provides", e);
        }
    }

    /** Class files by "client NUL class name", least recently used out first, bounded by count and bytes. */
    static final class ClassCache {
        private final int maxEntries;
        private final long maxBytes;
        private final LinkedHashMap<String, byte[]> map = new LinkedHashMap<>(64, 0.75f, true);
        private final ReentrantLock lock = new ReentrantLock();
        private long bytes;

        ClassCache(int maxEntries, long maxBytes) {
            this.maxEntries = maxEntries;
            this.maxBytes = maxBytes;
        }

        byte[] get(String slot) {
            lock.lock();
            try {
                return map.get(slot);
            } finally {
                lock.unlock();
            }
        }

        void put(String slot, byte[] b) {
            if (b.length > maxBytes) {
                return; // would push everything else out
            }
            lock.lock();
            try {
                byte[] old = map.put(slot, b);
                bytes += b.length - (old == null ? 0 : old.length);
                Iterator<byte[]> it = map.values().iterator();
                while ((map.size() > maxEntries || bytes > maxBytes) && it.hasNext()) {
                    bytes -= it.next().length;
                    it.remove();
                }
            } finally {
                lock.unlock();
            }
        }

        void removeClient(String clientId) {
            String prefix = clientId + '\0';
            lock.lock();
            try {
                Iterator<Map.Entry<String, byte[]>> it = map.entrySet().iterator();
                while (it.hasNext()) {
                    Map.Entry<String, byte[]> e = it.next();
                    if (e.getKey().startsWith(prefix)) {
                        bytes -= e.getValue().length;
                        it.remove();
                    }
                }
            } finally {
                lock.unlock();
            }
        }

        int size() {
            lock.lock();
            try {
                return map.size();
            } finally {
                lock.unlock();
            }
        }

        long bytes() {
            lock.lock();
            try {
                return bytes;
            } finally {
                lock.unlock();
            }
        }
    }
}
