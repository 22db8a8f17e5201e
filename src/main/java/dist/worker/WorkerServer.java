package dist.worker;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.EventLoop;
import dist.comm.ConnectionClosedException;
import dist.comm.Handler;
import dist.comm.Server;
import dist.protocol.Invokable;
import dist.protocol.Message;
import dist.protocol.Role;
import dist.protocol.RunCodec;
import dist.protocol.TaskCall;
import dist.serial.RemoteException;
import dist.serial.Serializer;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The worker's I/O shell: holds the data, runs tasks on its thread slots, fetches inputs from
 * peers and serves its data to them. What to run and fetch is decided by {@link WorkerState}
 * one event batch at a time through an {@link EventLoop}. A slot thread that finishes a task hands
 * the result to the loop and usually picks up the next task itself, with no thread hand-off.
 */
public final class WorkerServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dist.worker");

    /**
     * How a worker is set up.
     *
     * @param schedulerAddress "host:port" of the scheduler
     * @param host             interface to listen on for peers; also the advertised host
     * @param port             port for peers (0: any free one)
     * @param nthreads         task slots
     * @param name             a name for people and restrictions; null: the address
     * @param memoryLimit      bytes, reported to the scheduler (0: none)
     */
    public record Options(String schedulerAddress, String host, int port, int nthreads, String name,
                          long memoryLimit, int inlineResultLimit, CommConfig comm) {
        public Options {
            if (nthreads < 1) {
                throw new IllegalArgumentException("nthreads must be at least 1, got " + nthreads);
            }
        }

        public static Options of(String schedulerAddress, int nthreads) {
            return new Options(schedulerAddress, "127.0.0.1", 0, nthreads, null, 0, 8 * 1024, CommConfig.DEFAULT);
        }
    }

    private final Options options;
    private final Serializer serializer = Serializer.defaults();
    private final ClassLoader loader;
    private final CodeLoaders code;
    private final Map<Class<?>, AutoCloseable> shared = new ConcurrentHashMap<>();
    private final TaskContext.Host host = new TaskContext.Host() {
        @Override
        public void seceded(String key) {
            // the seceding thread keeps its task; a new thread takes over the slot it gave up
            startSlot();
            events.submit(new WorkerEvent.Seceded(key));
        }

        @Override
        public void rejoined(String key) {
            events.submit(new WorkerEvent.Rejoined(key));
        }

        @Override
        public String schedulerAddress() {
            return options.schedulerAddress();
        }

        @Override
        public String workerAddress() {
            return address;
        }

        @Override
        public CodeLoaders code() {
            return code;
        }

        @Override
        public <T extends AutoCloseable> T shared(Class<T> type, java.util.function.Supplier<T> create) {
            if (closing) {
                throw new IllegalStateException("worker " + address + " is closing");
            }
            return type.cast(shared.computeIfAbsent(type, t -> create.get()));
        }
    };
    private final DataStore data = new DataStore();
    /** Decoded functions per class loader: equal bytes from two clients may name two different classes. */
    private final Map<ClassLoader, RunCodec.FunctionCache> functions = new ConcurrentHashMap<>();
    private final EventLoop<WorkerEvent> events = new EventLoop<>(this::handle, 1024);
    /** Tasks the state machine started, waiting for a slot thread. */
    private final LinkedBlockingQueue<WorkerInstruction.Execute> runnable = new LinkedBlockingQueue<>();
    private final Server server;
    private final String address;
    private final WorkerState state;
    private final List<Thread> slots = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger slotIds = new AtomicInteger();
    private final Map<String, Connection> peers = new ConcurrentHashMap<>();
    private final ReentrantLock peersLock = new ReentrantLock();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile Connection scheduler;
    private volatile boolean closing;
    private Thread ticker;

    private WorkerServer(Options options) throws IOException {
        this.options = options;
        this.loader = Thread.currentThread().getContextClassLoader() != null
                ? Thread.currentThread().getContextClassLoader() : WorkerServer.class.getClassLoader();
        this.code = new CodeLoaders(loader, this::fetchClass);
        this.server = Server.listen(options.host(), options.port(), Role.WORKER, options.comm(), c -> peerHandler);
        this.address = options.host() + ":" + server.port();
        this.state = new WorkerState(address, options.nthreads(), WorkerConfig.defaults());
        for (int i = 0; i < options.nthreads(); i++) {
            slots.add(Thread.ofPlatform().name("dist-worker-slot-" + slotIds.getAndIncrement()).daemon(true)
                    .unstarted(this::slotLoop));
        }
    }

    /** Starts a worker, registers it with the scheduler and returns once the scheduler accepted it. */
    public static WorkerServer start(Options options) throws IOException {
        WorkerServer w = new WorkerServer(options);
        try {
            w.register();
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
        return w;
    }

    private void register() throws IOException {
        scheduler = Connection.connect(options.schedulerAddress(), Role.WORKER, options.comm(), schedulerHandler);
        Message reply;
        try {
            reply = scheduler.request(new Message.RegisterWorker(address, name(), options.nthreads(),
                    options.memoryLimit(), ProcessHandle.current().pid(), Map.of()))
                    .get(options.comm().requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IOException("scheduler at " + options.schedulerAddress() + " did not accept this worker: " + e, e);
        }
        if (!(reply instanceof Message.WorkerAccepted)) {
            throw new IOException("scheduler at " + options.schedulerAddress() + " refused this worker: " + reply);
        }
        slots.forEach(Thread::start);
        ticker = Thread.ofVirtual().name("dist-worker-tick").start(this::tick);
    }

    public String address() {
        return address;
    }

    public String name() {
        return options.name() != null ? options.name() : address;
    }

    /** Blocks until the worker has stopped (closed, or its scheduler went away). */
    public boolean awaitClose(long timeout, TimeUnit unit) throws InterruptedException {
        return closed.await(timeout, unit);
    }

    private final Handler schedulerHandler = new Handler() {
        @Override
        public void onMessage(Connection c, Message m, long requestId) {
            if (m instanceof Message.UploadJar j) {
                // installed here, on the reader thread, so a task sent after the jar finds its classes
                Message answer = addJar(j);
                if (requestId != 0) {
                    c.reply(requestId, answer);
                }
                return;
            }
            enqueue(m);
        }

        @Override
        public void onClose(Connection c, Throwable cause) {
            if (!closing) {
                LOG.log(Level.WARNING, "lost the scheduler at " + options.schedulerAddress()
                        + (cause == null ? "" : ": " + cause.getMessage()) + "; stopping");
                Thread.ofVirtual().start(WorkerServer.this::close);
            }
        }
    };

    private void enqueue(Message m) {
        if (m instanceof Message.Batch b) {
            for (Message part : b.messages()) {
                enqueue(part);
            }
        } else if (m instanceof Message.ComputeTask ct) {
            events.submit(new WorkerEvent.Compute(ct));
        } else if (m instanceof Message.FreeKeys fk) {
            events.submit(new WorkerEvent.Free(fk.keys()));
        } else if (m instanceof Message.CloseWorker cw) {
            LOG.log(Level.INFO, "scheduler asked this worker to close: " + cw.reason());
            Thread.ofVirtual().start(this::close);
        } else {
            LOG.log(Level.DEBUG, "worker ignored " + m.getClass().getSimpleName());
        }
    }

    /** Serves data to peers and clients. */
    private final Handler peerHandler = (c, m, requestId) -> {
        if (m instanceof Message.GetData gd) {
            Map<String, byte[]> out = new LinkedHashMap<>();
            for (String key : gd.keys()) {
                DataStore.Entry e = data.get(key);
                if (e != null) {
                    out.put(key, e.bytes());
                }
            }
            c.reply(requestId, new Message.DataReply(out));
        } else if (m instanceof Message.Ping p && requestId != 0) {
            c.reply(requestId, p);
        } else if (requestId != 0) {
            c.reply(requestId, new Message.ErrorReply("a worker does not answer " + m.getClass().getSimpleName()));
        }
    };

    private void tick() {
        try {
            while (!closing) {
                Thread.sleep(100);
                events.submit(new WorkerEvent.Tick());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Message addJar(Message.UploadJar j) {
        try {
            int n = code.addJar(j.bytes());
            LOG.log(Level.INFO, "added jar " + j.name() + (n == 0 ? " (already present)" : " (" + n + " classes)"));
            return new Message.Ack();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "refused jar " + j.name() + ": " + e.getMessage());
            return new Message.ErrorReply("worker " + address + " cannot use jar " + j.name() + ": " + e.getMessage());
        }
    }

    /** Asks the scheduler for a class of {@code clientId}; blocks the calling task's thread, bounded. */
    private byte[] fetchClass(String clientId, String className) {
        Connection s = scheduler;
        if (s == null || closing) {
            return null;
        }
        try {
            Message reply = s.request(new Message.ClassRequest(clientId, className))
                    .get(options.comm().requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
            if (reply instanceof Message.ClassBytes cb) {
                return cb.bytes();
            }
            LOG.log(Level.DEBUG, "no class " + className + " from client " + clientId + ": " + reply);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            LOG.log(Level.WARNING, "fetching class " + className + " from client " + clientId + " failed: " + e);
            return null;
        }
    }

    private void handle(List<WorkerEvent> batch) {
        if (closing) {
            return;
        }
        List<Message> toScheduler = new ArrayList<>();
        for (WorkerEvent e : batch) {
            List<WorkerInstruction> out;
            try {
                out = state.handle(e, System.nanoTime());
            } catch (RuntimeException ex) {
                LOG.log(Level.ERROR, "worker failed to handle " + e, ex);
                continue;
            }
            for (WorkerInstruction i : out) {
                perform(i, toScheduler);
            }
        }
        flush(toScheduler);
    }

    /** A task slot: runs started tasks one after another until the worker closes. */
    private void slotLoop() {
        try {
            while (!closing) {
                if (execute(runnable.take())) {
                    return; // its task seceded, and the slot went to a thread started then
                }
            }
        } catch (InterruptedException e) {
            // closing
        } finally {
            slots.remove(Thread.currentThread());
        }
    }

    private void startSlot() {
        if (closing) {
            return;
        }
        Thread t = Thread.ofPlatform().name("dist-worker-slot-" + slotIds.getAndIncrement()).daemon(true)
                .unstarted(this::slotLoop);
        slots.add(t);
        t.start();
    }

    private void flush(List<Message> toScheduler) {
        if (toScheduler.isEmpty()) {
            return;
        }
        Message m = toScheduler.size() == 1 ? toScheduler.get(0) : new Message.Batch(List.copyOf(toScheduler));
        try {
            scheduler.send(m);
        } catch (ConnectionClosedException e) {
            LOG.log(Level.DEBUG, "scheduler connection closed; dropped " + toScheduler.size() + " messages");
        }
    }

    private void perform(WorkerInstruction i, List<Message> toScheduler) {
        switch (i) {
            case WorkerInstruction.Execute ex -> runnable.add(ex);
            case WorkerInstruction.Fetch f -> Thread.ofVirtual().name("dist-fetch").start(() -> fetch(f));
            case WorkerInstruction.SendToScheduler s -> toScheduler.add(s.message());
            case WorkerInstruction.DropData d -> data.remove(d.key());
        }
    }

    /** Runs one task; true when it seceded on the way (its thread then leaves the pool). */
    private boolean execute(WorkerInstruction.Execute ex) {
        long start = System.nanoTime();
        Object result;
        ClassLoader loader = code.forClient(ex.clientId());
        TaskContext ctx = new TaskContext(host, ex.key(), loader);
        Thread self = Thread.currentThread();
        ClassLoader before = self.getContextClassLoader();
        self.setContextClassLoader(loader);
        TaskContext.enter(ctx);
        try {
            Map<String, Object> deps = new HashMap<>();
            for (String dep : ex.dependencies()) {
                DataStore.Entry e = data.get(dep);
                if (e == null) {
                    throw new IllegalStateException("input " + dep + " of task " + ex.key() + " is not on this worker");
                }
                deps.put(dep, e.value(serializer, loader));
            }
            TaskCall call = RunCodec.decode(serializer, ex.run(), loader, deps::get,
                    functions.computeIfAbsent(loader, l -> new RunCodec.FunctionCache()));
            Invokable fn = call.function();
            result = fn.invoke(call.args().toArray());
        } catch (Throwable t) {
            long stop = System.nanoTime();
            if (t instanceof VirtualMachineError vme && !(t instanceof OutOfMemoryError)) {
                throw vme;
            }
            events.submit(new WorkerEvent.ExecuteFailed(ex.key(), encodeError(t), summary(t), start, stop));
            return ctx.hasSeceded();
        } finally {
            TaskContext.leave();
            self.setContextClassLoader(before);
        }
        long stop = System.nanoTime();
        byte[] bytes;
        try {
            bytes = serializer.encode(result);
        } catch (RuntimeException e) {
            events.submit(new WorkerEvent.ExecuteFailed(ex.key(), encodeError(e),
                    "the result of " + ex.key() + " cannot be sent: " + summary(e), start, stop));
            return ctx.hasSeceded();
        }
        data.putComputed(ex.key(), result, bytes);
        byte[] inline = bytes.length <= options.inlineResultLimit() ? bytes : null;
        String type = result == null ? "null" : result.getClass().getName();
        events.submit(new WorkerEvent.ExecuteDone(ex.key(), bytes.length, type, start, stop, inline));
        return ctx.hasSeceded();
    }

    private static String summary(Throwable t) {
        return t.toString();
    }

    private byte[] encodeError(Throwable t) {
        try {
            return serializer.encode(t);
        } catch (RuntimeException e) {
            // the exception itself does not encode (an odd field, say): send its gist
            RemoteException plain = new RemoteException(t.getClass().getName(), String.valueOf(t.getMessage()), null);
            plain.setStackTrace(t.getStackTrace());
            return serializer.encode(plain);
        }
    }

    private void fetch(WorkerInstruction.Fetch f) {
        try {
            Connection c = peer(f.peer());
            Message reply = c.request(new Message.GetData(f.keys()))
                    .get(options.comm().requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
            if (!(reply instanceof Message.DataReply dr)) {
                events.submit(new WorkerEvent.FetchFailed(f.peer(), f.keys(), "unexpected reply " + reply));
                return;
            }
            Map<String, Long> got = new LinkedHashMap<>();
            List<String> missing = new ArrayList<>();
            for (String key : f.keys()) {
                byte[] b = dr.data().get(key);
                if (b == null) {
                    missing.add(key);
                } else {
                    data.putBytes(key, b);
                    got.put(key, (long) b.length);
                }
            }
            events.submit(new WorkerEvent.FetchDone(f.peer(), got, missing));
        } catch (Exception e) {
            Connection c = peers.remove(f.peer());
            if (c != null) {
                c.abort(e);
            }
            events.submit(new WorkerEvent.FetchFailed(f.peer(), f.keys(), e.toString()));
        }
    }

    private Connection peer(String addr) throws IOException {
        Connection c = peers.get(addr);
        if (c != null && c.isOpen()) {
            return c;
        }
        peersLock.lock();
        try {
            c = peers.get(addr);
            if (c == null || !c.isOpen()) {
                c = Connection.connect(addr, Role.PEER, options.comm(), (conn, m, id) -> { });
                peers.put(addr, c);
            }
            return c;
        } finally {
            peersLock.unlock();
        }
    }

    /** Stops the worker: leaves the scheduler, stops serving peers, drops its data. */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        if (ticker != null) {
            ticker.interrupt();
        }
        Connection s = scheduler;
        if (s != null) {
            s.close();
        }
        server.close();
        for (Connection c : peers.values()) {
            c.close();
        }
        slots.forEach(Thread::interrupt);
        for (AutoCloseable c : shared.values()) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(Level.DEBUG, "closing a shared object of worker " + address + ": " + e);
            }
        }
        shared.clear();
        data.clear();
        closed.countDown();
    }
}
