package dist.scheduler;

import dist.comm.Connection;
import dist.comm.Peer;
import dist.comm.ConnectionClosedException;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The scheduler's part in moving code: relays class requests from workers to the client that
 * submitted the task, caches the class files by name and SHA-256 (as bytes, never loaded or
 * decoded here), and keeps uploaded jars for every current and future worker.
 *
 * <p>Runs on connection threads, apart from the scheduler's state machine: code is not part of
 * the task graph and must not wait behind it.
 */
final class CodeRelay {
    private static final System.Logger LOG = System.getLogger("dist.scheduler");
    /** A forwarded request with no answer for this long is sent again when another worker asks. */
    private static final long RESEND_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Upper bound on class bytes kept, so a client cannot fill the scheduler's memory through the cache. */
    private static final long CACHE_LIMIT = 256L << 20;

    private record Waiter(Connection worker, long requestId) {}

    private static final class Pending {
        final List<Waiter> waiters = new ArrayList<>();
        long askedAt;
    }

    private final Function<String, Peer> routes;
    private final Supplier<List<Connection>> workers;
    private final Duration requestTimeout;
    /** "clientId NUL className" to the hash of its bytes. */
    private final Map<String, String> hashes = new ConcurrentHashMap<>();
    /** Class files by hash: two clients with the same class share one copy. */
    private final Map<String, byte[]> byHash = new ConcurrentHashMap<>();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final List<UploadJar> jars = new CopyOnWriteArrayList<>();
    private final AtomicLong cachedBytes = new AtomicLong();

    CodeRelay(Function<String, Peer> routes, Supplier<List<Connection>> workers, Duration requestTimeout) {
        this.routes = routes;
        this.workers = workers;
        this.requestTimeout = requestTimeout;
    }

    /** Handles a code message from {@code sender} (named {@code identity}); false when {@code m} is not one. */
    boolean handle(Peer sender, String identity, Message m, long requestId) {
        switch (m) {
            case ClassRequest r when sender instanceof Connection w && w.peerRole() == Role.WORKER ->
                    classRequest(w, r, requestId);
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

    private void classRequest(Connection worker, ClassRequest r, long requestId) {
        if (r.clientId() == null || r.className() == null) {
            reply(worker, requestId, new Message.ErrorReply("ClassRequest needs a client id and a class name"));
            return;
        }
        String slot = slot(r.clientId(), r.className());
        String hash = hashes.get(slot);
        byte[] cached = hash == null ? null : byHash.get(hash);
        if (cached != null) {
            reply(worker, requestId, new ClassBytes(r.clientId(), r.className(), cached));
            return;
        }
        Peer client = routes.apply(r.clientId());
        if (client == null || client.peerRole() == Role.WORKER) {
            reply(worker, requestId, new Message.ErrorReply("client " + r.clientId()
                    + " is not connected, so class " + r.className() + " cannot be fetched from it; "
                    + "put the class on the worker's class path or upload its jar"));
            return;
        }
        long now = System.nanoTime();
        boolean[] ask = {false};
        // compute is atomic per key, so the waiter list and the resend decision need no other lock
        pending.compute(slot, (k, cur) -> {
            Pending q = cur == null ? new Pending() : cur;
            q.waiters.add(new Waiter(worker, requestId));
            if (q.askedAt == 0 || now - q.askedAt > RESEND_NANOS) {
                q.askedAt = now;
                ask[0] = true;
            }
            return q;
        });
        if (ask[0]) {
            try {
                client.send(new ClassRequest(r.clientId(), r.className()));
            } catch (ConnectionClosedException e) {
                answer(slot, new Message.ErrorReply("client " + r.clientId() + " went away before sending class "
                        + r.className()));
            }
        }
    }

    private void classBytes(String clientId, ClassBytes b) {
        if (b.className() == null) {
            return;
        }
        // the sender's identity names the client: a client cannot answer for another
        if (b.bytes() != null) {
            String hash = sha256(b.bytes());
            if (byHash.containsKey(hash) || reserve(b.bytes().length)) {
                byHash.putIfAbsent(hash, b.bytes());
                hashes.put(slot(clientId, b.className()), hash);
            }
        }
        answer(slot(clientId, b.className()), new ClassBytes(clientId, b.className(), b.bytes()));
    }

    private boolean reserve(int n) {
        return cachedBytes.addAndGet(n) <= CACHE_LIMIT || cachedBytes.addAndGet(-n) < 0;
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

    /** A client left: workers waiting on its classes get an answer now rather than a timeout. */
    void clientGone(String clientId) {
        String prefix = clientId + '\0';
        for (String slot : List.copyOf(pending.keySet())) {
            if (slot.startsWith(prefix)) {
                answer(slot, new Message.ErrorReply("client " + clientId + " disconnected before sending class "
                        + slot.substring(prefix.length())));
            }
        }
    }

    private void uploadJar(Peer client, String identity, UploadJar j, long requestId) {
        if (j.bytes() == null || j.bytes().length == 0) {
            reply(client, requestId, new Message.ErrorReply("UploadJar " + j.name() + " has no bytes"));
            return;
        }
        String hash = sha256(j.bytes());
        boolean known = jars.stream().anyMatch(k -> sha256(k.bytes()).equals(hash));
        if (!known) {
            jars.add(j);
        }
        LOG.log(Level.INFO, "client " + identity + " uploaded jar " + j.name() + " (" + j.bytes().length + " bytes)");
        Thread.ofVirtual().name("dist-scheduler-jar").start(() -> {
            List<CompletableFuture<Message>> acks = new ArrayList<>();
            for (Connection w : workers.get()) {
                try {
                    acks.add(w.request(j, requestTimeout));
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

    /** Sends every uploaded jar to a worker that just registered, ahead of any task. */
    void workerJoined(Connection worker) {
        for (UploadJar j : jars) {
            try {
                worker.send(j);
            } catch (ConnectionClosedException e) {
                return;
            }
        }
    }

    /** Class files cached, for tests and diagnostics. */
    int cachedClasses() {
        return byHash.size();
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
}
