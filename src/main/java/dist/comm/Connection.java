package dist.comm;

import dist.compress.Compression;
import dist.protocol.Envelope;
import dist.protocol.FrameFormatException;
import dist.protocol.FrameLimits;
import dist.protocol.FrameReader;
import dist.protocol.FrameWriter;
import dist.protocol.HandshakeException;
import dist.protocol.Message;
import dist.protocol.Role;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One framed, handshaken TCP connection. One thread reads and hands messages to the {@link Handler}:
 * a platform thread on a connection to the scheduler and on the first few hundred others of the
 * process, a virtual one past that ({@code dist.comm.platform-readers}).
 *
 * <p>Sends never wait for the network: the socket is non-blocking, a sender writes what the socket
 * takes now (when no other write is in flight), and leaves the rest to the connection's writer thread;
 * messages queued meanwhile go out together in one gathering write. What a peer is owed is bounded
 * ({@link CommConfig.Liveness}): a peer that takes no byte within the write timeout, or falls further
 * behind than the send-queue bound, is dropped with a log line that says why, and so is one from which
 * nothing arrives within the idle timeout while our reader waits (each side pings when its own output
 * was quiet for the keepalive, and answers the other's pings).
 *
 * <pre>{@code
 * try (Connection c = Connection.connect("127.0.0.1:8786", Role.CLIENT, CommConfig.DEFAULT,
 *         (conn, msg, id) -> System.out.println("got " + msg))) {
 *     c.send(new Message.Ping(1));
 *     Message reply = c.request(new Message.WorkersRequest()).get(5, TimeUnit.SECONDS);
 * }
 * }</pre>
 */
public final class Connection implements Peer, AutoCloseable {

    static final System.Logger LOG = System.getLogger("dist.comm");

    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;

    /** How long a cleanly closing side waits for the peer's end of stream before it closes anyway. */
    static final Duration CLOSE_LINGER = Duration.ofSeconds(2);
    /** One-way messages whose events a reader defers, at most, to handle them in one batch. */
    static final int MAX_DEFERRED_MESSAGES = 1024;
    /**
     * At most this many bytes or buffers go to one write call: the JDK stages heap buffers in direct
     * memory and, the socket being non-blocking under virtual threads, re-stages what a partial write left.
     */
    private static final long WRITE_WINDOW_BYTES = 256L << 10;
    private static final int WRITE_WINDOW_BUFFERS = 512;
    /** Write rounds a sender does for others before it hands the rest to a writer thread. */
    private static final int SENDER_ROUNDS = 2;
    /** Platform reader threads running in this process (see {@link CommConfig#platformReader}). */
    private static final AtomicInteger PLATFORM_READERS_OPEN = new AtomicInteger();
    /** How long lent reading may sit untaken before the standby thread reads in the lender's place. */
    static final long LEND_PATIENCE_NANOS = 1_000_000L;
    /** A standby with no lend for this long sleeps until the next lend wakes it. */
    private static final long STANDBY_DOZE_NANOS = 1_000_000_000L;
    /** Keepalive pings: one-way, answered and swallowed by the connections themselves, never seen by handlers. */
    static final long KEEPALIVE_PROBE = Long.MIN_VALUE;
    static final long KEEPALIVE_ANSWER = Long.MIN_VALUE + 1;
    /** The connection whose reading the current thread does (set once for reader and standby threads). */
    private static final ThreadLocal<Connection> READING_FOR = new ThreadLocal<>();
    private static final long NOT_WAITING = Long.MIN_VALUE;
    /** A peer over the send-queue bound that took bytes this recently is not dropped by a state machine's send. */
    private static final long OVERFLOW_GRACE_NANOS = 1_000_000_000L;
    /** The most a peer that keeps taking bytes may be owed by a state machine, in multiples of the bound. */
    static final int HARD_BOUND_FACTOR = 4;
    /** How long a sender waiting for room in the queue sleeps between looks, should no wake-up come. */
    private static final long ROOM_POLL_NANOS = 50_000_000L;

    private final SocketChannel channel;
    /** The socket itself, or TLS over it. */
    private final GatheringByteChannel out;
    private final TlsChannel tls;
    private final Role peerRole;
    private final String peerAddress;
    private final CommConfig config;
    private final CommConfig.Liveness liveness;
    private final FrameCodec codec;
    private final FrameReader reader;
    /** FrameCodec for outgoing payload frames; incoming frames name their own. */
    private final Compression compression;
    private volatile Handler handler;
    private Runnable onTerminated = () -> { };

    private final ConcurrentLinkedQueue<ByteBuffer[]> queue = new ConcurrentLinkedQueue<>();
    /** Bytes of messages admitted and not yet taken by the socket (or by TLS): what waits for the peer. */
    private final AtomicLong queuedBytes = new AtomicLong();
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Buffers taken from the queue and not all written yet, from {@link #carryFirst} on; under the write lock. */
    private ByteBuffer[] carry;
    private int carryFirst;
    private volatile boolean carrying;
    /** A writer thread owns the backlog: senders only queue. */
    private final AtomicBoolean writerActive = new AtomicBoolean();
    /** When the socket last took bytes, and when the current writer began: the write deadline counts from the later. */
    private volatile long lastWriteProgress = System.nanoTime();
    private volatile long writerSince;
    /** {@link #close()} asked for the output to end once everything queued is written. */
    private volatile boolean shutdownWanted;
    private volatile boolean outputShut;
    /**
     * Where a platform thread waits for the socket to be readable or writable, made on first use under
     * {@link #selectorLock}; virtual threads wait through the {@link IoPoller} instead.
     */
    private Selector readSelector;
    private Selector writeSelector;
    private boolean selectorsClosed;
    private final ReentrantLock selectorLock = new ReentrantLock();
    /** Since when the reader waits for bytes ({@link #NOT_WAITING} while it does anything else). */
    private volatile long waitingSince = NOT_WAITING;
    private volatile ScheduledFuture<?> livenessTimer;
    /** Senders waiting for room in the queue (see {@link #admit}). */
    private final AtomicInteger roomWaiters = new AtomicInteger();
    private final ReentrantLock roomLock = new ReentrantLock();
    private final Condition roomFreed = roomLock.newCondition();
    private final PendingRequests pending;
    private final AtomicInteger state = new AtomicInteger(OPEN);
    /** Whether this connection's reader is a platform thread, counted in {@link #PLATFORM_READERS_OPEN}. */
    private boolean platformReader;
    private final AtomicReference<Throwable> closeCause = new AtomicReference<>();
    /** The thread reading now; null while reading is lent out and nobody took it (see {@link #tryLendReading}). */
    private final AtomicReference<Thread> reading = new AtomicReference<>();
    private volatile long lentAt;
    private final AtomicBoolean standbyStarted = new AtomicBoolean();
    private volatile Thread standby;
    /** The standby sleeps without a deadline: the next lend must wake it. */
    private volatile boolean standbyDozing;
    /** A standby thread waits for lent reading (none reads in a lender's place now). */
    private volatile boolean standingBy;

    /** Takes over a handshaken socket, which becomes non-blocking; the caller closes it if this throws. */
    Connection(SocketChannel channel, Handshaker.Link link, String peerAddress, CommConfig config, FrameCodec codec)
            throws IOException {
        this.channel = channel;
        this.out = link.out();
        this.tls = link.tls();
        this.peerRole = link.peerRole();
        this.peerAddress = peerAddress;
        this.pending = new PendingRequests(peerAddress);
        this.config = config;
        this.liveness = config.liveness();
        this.codec = codec;
        this.compression = configuredCompression();
        channel.configureBlocking(false);
        if (tls != null) {
            tls.nonBlocking(this::awaitReadable, this::kick);
        }
        this.reader = new FrameReader(new Inbound(link.in()), new FrameLimits(config.maxFrames(),
                config.maxFrameBytes(), config.maxMessageBytes()));
    }

    /** The system property's choice; a bad value is reported and replaced by the default, never fatal. */
    private static Compression configuredCompression() {
        try {
            return Compression.configured();
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, e.getMessage() + "; using " + Compression.DEFAULT_NAME);
            return Compression.named(Compression.DEFAULT_NAME);
        }
    }

    // ------------------------------------------------------------------ connecting

    /**
     * Connects to {@code hostPort} ("host:port"), retrying with back-off until
     * {@link CommConfig#connectTimeout()}, and completes the handshake as {@code role}.
     *
     * @throws IllegalArgumentException if {@code hostPort} is not "host:port"
     * @throws HandshakeException       if the peer is not a dist endpoint of this protocol version
     * @throws IOException              if no connection could be made within the connect timeout
     */
    public static Connection connect(String hostPort, Role role, CommConfig config, Handler handler)
            throws IOException {
        return connect(hostPort, role, config, handler, FrameCodec.DEFAULT);
    }

    static Connection connect(String hostPort, Role role, CommConfig config, Handler handler, FrameCodec codec)
            throws IOException {
        HostPort target = HostPort.parse(hostPort);
        config.security().check();
        long start = System.nanoTime();
        long deadline = start + config.connectTimeout().toNanos();
        long delayMillis = 10;
        int attempts = 0;
        while (true) {
            attempts++;
            SocketChannel ch = SocketChannel.open();
            try {
                InetSocketAddress addr = new InetSocketAddress(target.host(), target.port());
                if (addr.isUnresolved()) {
                    throw new java.net.UnknownHostException("cannot resolve host '" + target.host() + "'");
                }
                long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                ch.socket().connect(addr, (int) Math.min(left, Integer.MAX_VALUE));
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                // the handshake counts against the same deadline: a peer that never answers it (an HTTP
                // port) costs the connect timeout at most
                Duration handshake = Duration.ofNanos(Math.min(config.handshakeTimeout().toNanos(),
                        Math.max(MIN_HANDSHAKE_NANOS, deadline - System.nanoTime())));
                Handshaker.Link link = Handshaker.run(ch, role, config, hostPort, true, handshake);
                Connection c = new Connection(ch, link, hostPort, config, codec);
                c.start(handler);
                return c;
            } catch (HandshakeException e) {
                closeQuietly(ch);
                throw e; // a wrong peer does not become right by retrying
            } catch (IOException e) {
                closeQuietly(ch);
                long now = System.nanoTime();
                if (now - deadline >= 0) {
                    throw new UnreachableException(hostPort, Duration.ofNanos(now - start), attempts, e);
                }
                try {
                    // the last attempt falls on the deadline, not a back-off before it
                    Thread.sleep(Math.max(1, Math.min(delayMillis, TimeUnit.NANOSECONDS.toMillis(deadline - now))));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while connecting to " + hostPort);
                }
                delayMillis = Math.min(delayMillis * 2, 1000);
            }
        }
    }

    /** The least time a handshake gets when the connect deadline is (almost) over. */
    private static final long MIN_HANDSHAKE_NANOS = 200_000_000L;

    /** Starts the reader thread; {@code handler} sees every message from now on. */
    void start(Handler handler) {
        this.handler = handler;
        platformReader = CommConfig.platformReader(peerRole, PLATFORM_READERS_OPEN.get());
        if (platformReader) {
            PLATFORM_READERS_OPEN.incrementAndGet();
        }
        Thread.Builder reader = platformReader ? Thread.ofPlatform().daemon(true) : Thread.ofVirtual();
        reader.name("dist-read " + peerAddress).start(this::readerBody);
        long tick = liveness.keepalive().toNanos() / 2;
        ScheduledFuture<?> timer = Timers.TIMER.scheduleAtFixedRate(this::livenessTick, tick, tick,
                TimeUnit.NANOSECONDS);
        livenessTimer = timer;
        if (state.get() == CLOSED) {
            timer.cancel(false); // ended already: the reader's exit may not have seen the timer
        }
    }

    void onTerminated(Runnable r) {
        this.onTerminated = r;
    }

    // ------------------------------------------------------------------ sending

    /**
     * Queues a one-way message; if no write is in flight, writes at once on this thread what the socket
     * takes, never waiting for the peer. Past {@link CommConfig.Liveness#maxSendQueueBytes()}, an
     * application thread waits for room (at most the write timeout without progress), while a state
     * machine's thread drops the peer instead.
     *
     * @throws ConnectionClosedException once the connection is closed or closing, or was dropped for its
     *                                   peer's sake (the message says why)
     */
    public void send(Message message) {
        enqueue(Envelope.Kind.ONE_WAY, 0, message);
    }

    /** Sends a request and completes with the reply, or exceptionally on timeout or close. */
    public CompletableFuture<Message> request(Message message) {
        return request(message, config.requestTimeout());
    }

    /**
     * Sends a request and waits on this thread for the reply, polling for it for up to
     * {@code dist.comm.reply-spin-us} (200) before it parks: on loopback a reply often comes back
     * sooner than a parked thread wakes.
     *
     * @throws ExecutionException wrapping {@link TimeoutException} past {@code timeout}, or
     *                            {@link ConnectionClosedException} when the connection closes first
     */
    public Message call(Message message, Duration timeout) throws InterruptedException, ExecutionException {
        try {
            // the request's own deadline completes the future; this bound is only a backstop
            return SpinWait.get(request(message, timeout), CommConfig.REPLY_SPIN_NANOS,
                    timeout.toNanos() + TimeUnit.SECONDS.toNanos(1));
        } catch (TimeoutException e) {
            throw new ExecutionException(e);
        }
    }

    /**
     * Sends a request; the future completes with the reply, or with {@link TimeoutException} past
     * {@code timeout}, or with {@link ConnectionClosedException} when the connection closes first.
     */
    public CompletableFuture<Message> request(Message message, Duration timeout) {
        CompletableFuture<Message> future = new CompletableFuture<>();
        long id = pending.open(future, timeout, message.getClass().getSimpleName());
        try {
            enqueue(Envelope.Kind.REQUEST, id, message);
        } catch (RuntimeException e) {
            pending.abandon(id);
            future.completeExceptionally(e);
        }
        return future;
    }

    /** Answers the request {@code requestId} received by this connection's handler. */
    public void reply(long requestId, Message message) {
        if (requestId == 0) {
            throw new IllegalArgumentException("request id 0 marks a one-way message, which takes no reply");
        }
        enqueue(Envelope.Kind.REPLY, requestId, message);
    }

    private void enqueue(Envelope.Kind kind, long id, Message message) {
        if (state.get() != OPEN) {
            throw closedException();
        }
        ByteBuffer[] wire = FrameWriter.encode(new Envelope(kind, id, codec.encode(message)), compression);
        long bytes = 0;
        for (ByteBuffer b : wire) {
            bytes += b.remaining();
        }
        admit(bytes);
        queue.add(wire);
        flushFromSender();
    }

    /**
     * Counts {@code bytes} into what waits for the peer. A message that finds nothing waiting always
     * passes; past the bound, a thread that may wait waits for the writer to make room (the write
     * deadline bounds that). A thread that may not wait drops the peer, unless the peer is taking
     * bytes right now (a burst of one batch to a fast peer), up to {@link #HARD_BOUND_FACTOR} times
     * the bound (a peer that takes a trickle is not owed more).
     */
    private void admit(long bytes) {
        long bound = liveness.maxSendQueueBytes();
        while (true) {
            long waiting = queuedBytes.get();
            boolean under = waiting == 0 || waiting + bytes <= bound;
            if (!under && !mayWaitForRoom()) {
                long quiet = System.nanoTime() - lastWriteProgress;
                boolean taking = quiet < Math.min(OVERFLOW_GRACE_NANOS, liveness.writeTimeout().toNanos());
                if (!taking || waiting + bytes > bound * HARD_BOUND_FACTOR) {
                    drop(new StalledPeerException("the peer fell behind: " + waiting + " bytes wait for it and "
                            + bytes + " more would pass " + (taking ? HARD_BOUND_FACTOR + " times " : "")
                            + "the bound of " + bound + " (dist.comm.max-send-queue-bytes)"
                            + (taking ? "" : ", and it took no byte for " + format(Duration.ofNanos(quiet)))));
                    throw closedException();
                }
                under = true;
            }
            if (under) {
                if (queuedBytes.compareAndSet(waiting, waiting + bytes)) {
                    return;
                }
                continue;
            }
            awaitRoom();
        }
    }

    /** Whether the calling thread is reading a connection now (a peer drives what it does). */
    static boolean readingNow() {
        Connection r = READING_FOR.get();
        return r != null && r.reading.get() == Thread.currentThread();
    }

    /**
     * Whether the sending thread may wait for a slow peer: not a state machine's thread (one handling
     * an event loop's batch), not one reading another connection now, not the timer's, not an
     * interrupted one.
     */
    private boolean mayWaitForRoom() {
        if (EventLoop.handlingEvents() || Timers.onTimerThread() || Thread.currentThread().isInterrupted()) {
            return false;
        }
        Connection r = READING_FOR.get();
        return r == null || r == this || r.reading.get() != Thread.currentThread();
    }

    /** Bytes queued for the peer and not yet taken by the socket. */
    long queuedBytes() {
        return queuedBytes.get();
    }

    private void awaitRoom() {
        if (!Thread.currentThread().isVirtual() && helpWrite()) {
            return; // made room itself
        }
        roomWaiters.incrementAndGet();
        roomLock.lock();
        try {
            if (state.get() == OPEN && queuedBytes.get() != 0) {
                roomFreed.awaitNanos(ROOM_POLL_NANOS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the next look sees it and waits no more
        } finally {
            roomLock.unlock();
            roomWaiters.decrementAndGet();
        }
        if (state.get() != OPEN) {
            throw closedException();
        }
    }

    /**
     * A platform thread waiting for room writes what the socket takes now. The writer is a virtual thread,
     * and a process whose carrier threads are all pinned (blocking pipe or file reads, native calls) may
     * not run it for a long while; the waiting sender then drains its own backlog. True when bytes went.
     */
    private boolean helpWrite() {
        if (state.get() != OPEN || !writeLock.tryLock()) {
            return false;
        }
        long before = queuedBytes.get();
        writeLocked();
        return queuedBytes.get() < before;
    }

    /**
     * {@link #writeSome} for a sending thread that holds the write lock, which this releases; a failed
     * write closes the connection and is thrown to the sender. True once nothing is left.
     */
    private boolean writeLocked() {
        try {
            return writeSome();
        } catch (IOException e) {
            writeFailed(e);
            throw new ConnectionClosedException("write to " + peerAddress + " failed: " + e, e);
        } finally {
            writeLock.unlock();
        }
    }

    private void signalRoom() {
        if (roomWaiters.get() > 0) {
            roomLock.lock();
            try {
                roomFreed.signalAll();
            } finally {
                roomLock.unlock();
            }
        }
    }

    /** Latency first: write now if nobody is writing; a busy writer picks our message up. */
    private void flushFromSender() {
        for (int rounds = 0; rounds < SENDER_ROUNDS; rounds++) {
            // the lock holder looks at the backlog again after unlocking: nothing is stranded
            // a platform sender writes even while a writer is started: that virtual thread may find no
            // carrier (the timer's thread leaves big batches to the writer: every deadline waits behind it)
            if ((writerActive.get() && (Thread.currentThread().isVirtual() || Timers.onTimerThread()))
                    || !hasBacklog() || !writeLock.tryLock()) {
                return;
            }
            if (!writeLocked()) {
                startWriter(); // the socket is full: the writer waits for room, the sender goes on
                return;
            }
        }
        if (hasBacklog()) {
            startWriter(); // a sustained backlog: no sender keeps writing for others
        }
    }

    /** Writes what waits if nobody else is; never throws (a TLS control record, a close). */
    private void kick() {
        try {
            flushFromSender();
        } catch (ConnectionClosedException ignored) {
            // the failure closed the connection; its handler hears of it
        }
    }

    private boolean hasBacklog() {
        return !queue.isEmpty() || carrying || (tls != null && tls.hasPendingOutput())
                || (shutdownWanted && !outputShut);
    }

    private void startWriter() {
        if (writerActive.compareAndSet(false, true)) {
            writerSince = System.nanoTime();
            Thread.ofVirtual().name("dist-write " + peerAddress).start(this::writerBody);
        }
    }

    /** Drains the backlog, waiting for room in the socket, until it is empty or the deadline passes. */
    private void writerBody() {
        try {
            while (state.get() != CLOSED) {
                boolean drained;
                writeLock.lock();
                try {
                    drained = writeSome();
                } finally {
                    writeLock.unlock();
                }
                if (drained) {
                    writerActive.set(false);
                    // a sender that queued just now saw the writer active and left its message to us
                    if (!hasBacklog() || !writerActive.compareAndSet(false, true)) {
                        return;
                    }
                    writerSince = System.nanoTime();
                    continue;
                }
                awaitWritable();
            }
            writerActive.set(false);
        } catch (StalledPeerException e) {
            writerActive.set(false);
            drop(e);
        } catch (IOException | ClosedSelectorException e) {
            writerActive.set(false);
            writeFailed(e instanceof IOException io ? io : new ClosedChannelException());
        }
    }

    /** Waits until the socket takes bytes again; throws once none was taken for the write timeout. */
    private void awaitWritable() throws IOException {
        long timeout = liveness.writeTimeout().toNanos();
        while (true) {
            if (state.get() == CLOSED || !channel.isOpen()) {
                throw new ClosedChannelException();
            }
            long progress = lastWriteProgress;
            long since = progress - writerSince > 0 ? progress : writerSince;
            long left = since + timeout - System.nanoTime();
            if (left <= 0) {
                throw new StalledPeerException("the peer did not read for " + format(liveness.writeTimeout()) + " with "
                        + queuedBytes.get() + " bytes queued for it (dist.comm.write-timeout)");
            }
            if (awaitReady(SelectionKey.OP_WRITE, left)) {
                return;
            }
        }
    }

    /**
     * Waits until the socket is ready for {@code op}, or {@code timeoutNanos} passed (0: no timeout);
     * false on timeout. A virtual thread parks (the poller wakes it), a platform one selects.
     */
    private boolean awaitReady(int op, long timeoutNanos) throws IOException {
        if (Thread.currentThread().isVirtual()) {
            return IoPoller.get().await(channel, op, timeoutNanos);
        }
        Selector sel = selector(op);
        long millis = timeoutNanos == 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + 1;
        return sel.select(k -> { }, millis) > 0;
    }

    /** This connection's selector for {@code op}, made on first use. */
    private Selector selector(int op) throws IOException {
        selectorLock.lock();
        try {
            if (selectorsClosed) {
                throw new ClosedChannelException();
            }
            Selector sel = op == SelectionKey.OP_READ ? readSelector : writeSelector;
            if (sel == null) {
                sel = Selector.open();
                try {
                    channel.register(sel, op);
                } catch (IOException | RuntimeException e) {
                    sel.close();
                    throw e;
                }
                if (op == SelectionKey.OP_READ) {
                    readSelector = sel;
                } else {
                    writeSelector = sel;
                }
            }
            return sel;
        } finally {
            selectorLock.unlock();
        }
    }

    /**
     * Writes what the socket takes now, oldest first, never waiting; true once nothing is left (and,
     * after {@link #close()}, the output is shut). Call with the write lock held.
     */
    private boolean writeSome() throws IOException {
        while (true) {
            if (carry == null && !takeBatch()) {
                if (tls != null && tls.hasPendingOutput()) {
                    long sent = tls.sentBytes();
                    boolean flushed = tls.flushPending();
                    if (tls.sentBytes() != sent) {
                        progressed();
                    }
                    if (!flushed) {
                        return false;
                    }
                }
                return !shutdownWanted || shutOutput();
            }
            // a window bounded in bytes and buffers: the JDK copies each heap buffer of a call into staging memory
            ByteBuffer[] bufs = carry;
            int end = carryFirst;
            long bytes = 0;
            while (end < bufs.length && end - carryFirst < WRITE_WINDOW_BUFFERS
                    && (end == carryFirst || bytes + bufs[end].remaining() <= WRITE_WINDOW_BYTES)) {
                bytes += bufs[end].remaining();
                end++;
            }
            long sentBefore = tls == null ? 0 : tls.sentBytes();
            long n = out.write(bufs, carryFirst, end - carryFirst);
            if (n > 0) {
                queuedBytes.addAndGet(-n);
            }
            if (n > 0 || (tls != null && tls.sentBytes() != sentBefore)) {
                progressed();
            }
            while (carryFirst < bufs.length && !bufs[carryFirst].hasRemaining()) {
                carryFirst++;
            }
            if (carryFirst == bufs.length) {
                carry = null;
                carrying = false;
            } else if (carryFirst < end) {
                return false; // the socket took less than offered: its buffer is full
            }
        }
    }

    private void progressed() {
        lastWriteProgress = System.nanoTime();
        signalRoom();
    }

    /** Moves queued messages into {@link #carry}; false when the queue is empty. Under the write lock. */
    private boolean takeBatch() {
        List<ByteBuffer> batch = new ArrayList<>();
        ByteBuffer[] next;
        while ((next = queue.poll()) != null) {
            for (ByteBuffer b : next) {
                batch.add(b);
            }
            if (batch.size() >= 4096) {
                break;
            }
        }
        if (batch.isEmpty()) {
            return false;
        }
        carry = batch.toArray(new ByteBuffer[0]);
        carryFirst = 0;
        carrying = true;
        return true;
    }

    /** After {@link #close()}: half-closes the output once all is sent; false while TLS records still wait. */
    private boolean shutOutput() throws IOException {
        if (outputShut) {
            return true;
        }
        if (tls != null) {
            if (!tls.shutdownOutput()) {
                return false;
            }
        } else {
            channel.shutdownOutput(); // the peer reads to our last message, then sees a clean end
        }
        outputShut = true;
        // the reader ends at the peer's end of stream; a peer that never closes is cut after the linger
        Timers.TIMER.schedule(this::closeChannel, CLOSE_LINGER.toMillis(), TimeUnit.MILLISECONDS);
        return true;
    }

    /** A write failed: the connection is broken (after {@link #close()}: it ends without a cause, as asked). */
    private void writeFailed(IOException e) {
        if (shutdownWanted) {
            LOG.log(System.Logger.Level.DEBUG, () -> "flush on close to " + peerAddress + " failed: " + e);
            closeChannel();
        } else {
            abort(e);
        }
    }

    /** Drops the connection for the peer's sake, saying why (once). */
    private void drop(StalledPeerException why) {
        if (state.get() == CLOSED || !closeCause.compareAndSet(null, why)) {
            return;
        }
        LOG.log(System.Logger.Level.WARNING, "dropped connection to " + peerAddress + " (" + peerRole + "): "
                + why.getMessage());
        abort(why);
    }

    // ------------------------------------------------------------------ reading

    /** A reader thread: reads, and stands by whenever another thread took the reading it lent. */
    private void readerBody() {
        READING_FOR.set(this);
        reading.set(Thread.currentThread());
        while (readUntilTaken()) {
            if (!standBy()) {
                return;
            }
        }
    }

    /** Reads and dispatches until the connection ends (false) or another thread took lent reading (true). */
    private boolean readUntilTaken() {
        Thread me = Thread.currentThread();
        Throwable cause = null;
        boolean clean = false;
        boolean bursts = handler.batchesReads();
        int deferred = 0;
        try {
            while (true) {
                Envelope e = reader.read();
                if (e == null) {
                    clean = true;
                    break;
                }
                boolean defer = bursts && e.kind() == Envelope.Kind.ONE_WAY;
                if (defer) {
                    EventLoop.deferDrains(); // the messages that arrived together are handled together
                } else {
                    EventLoop.drainDeferred(); // what came before a request is handled before it
                }
                dispatch(e);
                if (reading.get() != me && !reading.compareAndSet(null, me)) {
                    EventLoop.drainDeferred();
                    return true; // lent during dispatch, and the standby reads now
                }
                if (defer && (++deferred >= MAX_DEFERRED_MESSAGES || !reader.hasWholeMessage())) {
                    deferred = 0;
                    EventLoop.drainDeferred();
                }
            }
        } catch (IOException | RuntimeException e) {
            cause = e;
        } catch (Error e) {
            cause = e;
            LOG.log(System.Logger.Level.ERROR, "reader of " + peerAddress + " failed", e);
        } finally {
            EventLoop.drainDeferred(); // never left waiting behind a read that ended
        }
        if (platformReader) {
            PLATFORM_READERS_OPEN.decrementAndGet();
        }
        terminate(clean, cause);
        Thread s = standby;
        if (s != null) {
            LockSupport.unpark(s);
        }
        return false;
    }

    /**
     * Lets another thread read this connection while the calling reader thread, inside a handler,
     * does something that may take long (a task run where its message arrived, say). The caller
     * reads on after its handler returns unless a standby thread found the reading idle for
     * {@link #LEND_PATIENCE_NANOS} and took it; short work thus costs no thread hand-off, long
     * work holds up the connection by about a millisecond. One lend at a time: false, and nothing
     * lent, while an earlier lender still has the standby thread reading in its place.
     *
     * <pre>{@code
     * // in Handler.onMessage, on this connection's reader thread
     * if (connection.tryLendReading()) {
     *     runTask();   // other messages are read meanwhile if it runs long
     * }
     * }</pre>
     *
     * @throws IllegalStateException if the calling thread is not reading this connection now
     */
    public boolean tryLendReading() {
        if (reading.get() != Thread.currentThread()) {
            throw new IllegalStateException("only the thread reading " + peerAddress + " can lend its reading");
        }
        if (standbyStarted.get() && !standingBy) {
            return false; // the standby reads for an earlier lender, which has not come back yet
        }
        lentAt = System.nanoTime();
        reading.set(null); // publishes the frame reader's state to whoever reads next
        // after the release: a standby about to doze sees it, or is seen dozing and woken
        if (standbyStarted.compareAndSet(false, true)) {
            Thread.ofPlatform().daemon(true).name("dist-read-standby " + peerAddress).start(() -> {
                if (standBy()) {
                    readerBody();
                }
            });
        } else if (standbyDozing) {
            standbyDozing = false;
            LockSupport.unpark(standby);
        }
        return true;
    }

    /** Waits until lent reading sits idle past the patience, then takes it; false once the connection ended. */
    private boolean standBy() {
        Thread me = Thread.currentThread();
        standby = me;
        standingBy = true;
        try {
            return awaitLentReading(me);
        } finally {
            standingBy = false;
        }
    }

    private boolean awaitLentReading(Thread me) {
        while (state.get() != CLOSED) {
            if (reading.get() == null && (state.get() != OPEN || System.nanoTime() - lentAt >= LEND_PATIENCE_NANOS)
                    && reading.compareAndSet(null, me)) {
                return true;
            }
            if (System.nanoTime() - lentAt >= STANDBY_DOZE_NANOS && reading.get() != null) {
                standbyDozing = true;
                if (reading.get() != null && state.get() != CLOSED) {
                    LockSupport.park(this); // until a lend or the end
                }
                standbyDozing = false;
            } else {
                LockSupport.parkNanos(this, LEND_PATIENCE_NANOS);
            }
        }
        return false;
    }

    private void dispatch(Envelope e) throws IOException {
        Message m;
        try {
            m = codec.decode(e.frames());
        } catch (RuntimeException ex) {
            throw new FrameFormatException("a " + e.kind() + " message does not decode: " + ex.getMessage(), ex);
        }
        if (state.get() != OPEN) {
            return; // closing: replies were already failed, the handler is done
        }
        if (e.kind() == Envelope.Kind.ONE_WAY && m instanceof Message.Ping p
                && (p.nonce() == KEEPALIVE_PROBE || p.nonce() == KEEPALIVE_ANSWER)) {
            if (p.nonce() == KEEPALIVE_PROBE) {
                keepalive(KEEPALIVE_ANSWER);
            }
            return; // the bytes arriving were the point
        }
        switch (e.kind()) {
            case REPLY -> pending.complete(e.requestId(), m);
            case REQUEST, ONE_WAY -> {
                long bytes = 0;
                for (byte[] f : e.frames()) {
                    bytes += f.length;
                }
                EventLoop.weighSubmissions(bytes);
                try {
                    deliver(m, e.kind() == Envelope.Kind.REQUEST ? e.requestId() : 0);
                } finally {
                    EventLoop.weighSubmissions(0);
                }
            }
        }
    }

    private void deliver(Message m, long requestId) {
        try {
            handler.onMessage(this, m, requestId);
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.WARNING, "handler failed on " + m.getClass().getSimpleName() + " from "
                    + peerAddress, ex);
            if (requestId != 0 && state.get() == OPEN) {
                try {
                    reply(requestId, new Message.ErrorReply("handler failed: " + ex));
                } catch (ConnectionClosedException ignored) {
                    // the peer is gone; its request fails on its side
                }
            }
        }
    }

    /**
     * Waits, on the thread reading, until bytes (or the end) arrive. No deadline here: the liveness
     * timer drops a peer silent for the idle timeout while a reader waits, which wakes this.
     */
    private void awaitReadable() throws IOException {
        waitingSince = System.nanoTime();
        try {
            while (true) {
                if (state.get() == CLOSED || !channel.isOpen()) {
                    throw new ClosedChannelException();
                }
                if (awaitReady(SelectionKey.OP_READ, 0)) {
                    return;
                }
            }
        } finally {
            waitingSince = NOT_WAITING;
        }
    }

    /**
     * Every half keepalive: a connection whose output was quiet for the keepalive sends a ping (so the
     * peer hears from us even while our reader is busy in a handler, or while the peer's reader is busy
     * taking a long message from us); one whose reader has waited for the idle timeout and heard
     * nothing, its peer's pings included, drops the peer. Time our reader spends elsewhere (a handler,
     * a long message arriving) is never counted as silence.
     */
    private void livenessTick() {
        if (state.get() != OPEN) {
            ScheduledFuture<?> t = livenessTimer;
            if (t != null) {
                t.cancel(false);
            }
            return;
        }
        long now = System.nanoTime();
        long waiting = waitingSince;
        if (waiting != NOT_WAITING && now - waiting >= liveness.idleTimeout().toNanos()) {
            drop(new StalledPeerException("nothing arrived from the peer for " + format(liveness.idleTimeout())
                    + ", keepalive pings included (dist.comm.idle-timeout)"));
        } else if (now - lastWriteProgress >= liveness.keepalive().toNanos()) {
            keepalive(KEEPALIVE_PROBE);
        }
    }

    /** Sends a keepalive ping or its answer, unless bytes already wait for the peer (they say as much). */
    private void keepalive(long nonce) {
        if (queuedBytes.get() != 0 || carrying || state.get() != OPEN) {
            return;
        }
        try {
            enqueue(Envelope.Kind.ONE_WAY, 0, new Message.Ping(nonce));
        } catch (ConnectionClosedException ignored) {
            // closed meanwhile
        }
    }

    /** The link's input, whose reads wait for bytes (see {@link #awaitReadable}) instead of returning none. */
    private final class Inbound implements ReadableByteChannel {
        private final ReadableByteChannel in;

        Inbound(ReadableByteChannel in) {
            this.in = in;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            while (true) {
                int n = in.read(dst);
                if (n != 0 || !dst.hasRemaining()) {
                    return n;
                }
                awaitReadable();
            }
        }

        @Override
        public boolean isOpen() {
            return in.isOpen();
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** The reader's exit: decides clean or failed, fails what waits, tells the handler once. */
    private void terminate(boolean eofAtBoundary, Throwable readError) {
        int before = state.getAndSet(CLOSED);
        Throwable cause;
        if (before == OPEN) {
            cause = eofAtBoundary ? null : readError; // the peer closed, or the stream broke
        } else {
            cause = closeCause.get(); // we closed: null for close(), the cause for abort()
        }
        closeChannel();
        closeSelectors(); // deregistered, the socket's descriptor is released
        ScheduledFuture<?> timer = livenessTimer;
        if (timer != null) {
            timer.cancel(false);
        }
        queue.clear();
        signalRoom();
        failPending(cause);
        if (before == OPEN && cause != null) {
            LOG.log(System.Logger.Level.WARNING, "dropped connection to " + peerAddress + " (" + peerRole + "): "
                    + reason(cause));
        }
        try {
            onTerminated.run();
            Handler h = handler;
            if (h != null) {
                h.onClose(this, cause);
            }
        } catch (RuntimeException ex) {
            LOG.log(System.Logger.Level.WARNING, "close handler of " + peerAddress + " failed", ex);
        }
    }

    private void failPending(Throwable cause) {
        pending.failAll(cause);
    }

    // ------------------------------------------------------------------ state

    /** The role the peer announced in the handshake. */
    public Role peerRole() {
        return peerRole;
    }

    /** The peer's address as "host:port". */
    public String peerAddress() {
        return peerAddress;
    }

    public boolean isOpen() {
        return state.get() == OPEN;
    }

    /**
     * Closes cleanly without waiting: queued messages are written first (by the writer thread, under
     * the write deadline, if the socket does not take them at once), then the output ends; the handler
     * sees a null cause.
     */
    @Override
    public void close() {
        if (!state.compareAndSet(OPEN, CLOSING)) {
            return;
        }
        failPending(null);
        shutdownWanted = true;
        kick();
    }

    /** Closes at once, dropping queued messages (the handler sees {@code cause}). */
    public void abort(Throwable cause) {
        if (state.get() == CLOSED) {
            return;
        }
        closeCause.compareAndSet(null, cause); // before the channel closes, so the reader's exit reports it
        state.compareAndSet(OPEN, CLOSING);
        queue.clear();
        failPending(cause);
        closeChannel();
    }

    /** Closes the socket and wakes whoever waits on it (the reader, the writer, senders waiting for room). */
    private void closeChannel() {
        closeQuietly(channel);
        selectorLock.lock();
        try {
            if (readSelector != null) {
                readSelector.wakeup();
            }
            if (writeSelector != null) {
                writeSelector.wakeup();
            }
        } finally {
            selectorLock.unlock();
        }
        IoPoller.get().wake(channel); // and its key there is let go, so the socket's descriptor is released
        signalRoom();
    }

    private void closeSelectors() {
        selectorLock.lock();
        try {
            selectorsClosed = true;
            if (readSelector != null) {
                closeQuietly(readSelector);
            }
            if (writeSelector != null) {
                closeQuietly(writeSelector);
            }
        } finally {
            selectorLock.unlock();
        }
    }

    private static void closeQuietly(Selector s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing more to release
        }
    }

    private ConnectionClosedException closedException() {
        Throwable c = closeCause.get();
        return c == null ? new ConnectionClosedException("connection to " + peerAddress + " is closed")
                : new ConnectionClosedException("connection to " + peerAddress + " is closed: " + reason(c), c);
    }

    @Override
    public String toString() {
        return "Connection[" + peerRole + " " + peerAddress + (isOpen() ? "" : ", closed") + "]";
    }

    static String reason(Throwable t) {
        if (t instanceof ClosedChannelException) {
            return "the connection was closed";
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }

    static String format(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + " s" : ms + " ms";
    }

    static String addressOf(SocketAddress a) {
        if (a instanceof InetSocketAddress i) {
            return i.getHostString() + ":" + i.getPort();
        }
        return String.valueOf(a);
    }

    static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already broken; nothing more to release
        }
    }
}
