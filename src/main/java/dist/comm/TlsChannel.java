package dist.comm;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * TLS over a socket channel: an {@link SSLEngine} wraps what is written and unwraps what is read. One
 * thread reads; writers take the write lock. Large reads unwrap straight into the caller's buffer.
 *
 * <p>The handshake runs with the socket blocking. After {@link #nonBlocking}, a write sends what the
 * socket takes now and keeps the rest of the ciphertext it made ({@link #hasPendingOutput}), never
 * waiting for the peer; a read that finds no byte waits through the connection's {@link ReadWait}.
 */
final class TlsChannel implements ByteChannel, GatheringByteChannel {

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** Records wrapped per socket write: fewer system calls for large messages. */
    private static final int RECORDS_PER_WRITE = 16;

    /** How the reading thread waits for bytes once the socket is non-blocking. */
    interface ReadWait {
        void awaitReadable() throws IOException;
    }

    private final SocketChannel ch;
    private final SSLEngine engine;
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Ciphertext received and not unwrapped yet (read mode). */
    private ByteBuffer netIn;
    /** Plaintext unwrapped and not handed out yet (read mode). */
    private ByteBuffer appIn;
    /** Ciphertext to send, in read mode between calls (what it holds waits for the socket); under the write lock. */
    private ByteBuffer netOut;
    private boolean inboundDone;
    /** Ciphertext waits in {@link #netOut}. */
    private volatile boolean pendingOutput;
    /** Ciphertext bytes the socket took, for the connection's progress clock. */
    private volatile long sentBytes;
    private volatile ReadWait readWait;
    /** Told when a control record (a key update's answer) is left waiting for the socket. */
    private volatile Runnable onPendingOutput;

    /** {@code prefix}: bytes already read from {@code ch} that belong to the TLS stream (may be null). */
    TlsChannel(SocketChannel ch, SSLEngine engine, ByteBuffer prefix) {
        this.ch = ch;
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize();
        int app = engine.getSession().getApplicationBufferSize();
        netIn = ByteBuffer.allocateDirect(packet);
        if (prefix != null) {
            netIn.put(prefix);
        }
        netIn.flip();
        appIn = ByteBuffer.allocate(app);
        appIn.flip();
        netOut = ByteBuffer.allocateDirect(packet * RECORDS_PER_WRITE);
        netOut.flip();
    }

    /** From now on the socket is non-blocking: reads wait through {@code w}, writes keep what the socket did not take. */
    void nonBlocking(ReadWait w, Runnable pending) {
        this.readWait = w;
        this.onPendingOutput = pending;
    }

    /** Whether ciphertext waits for the socket. */
    boolean hasPendingOutput() {
        return pendingOutput;
    }

    /** Ciphertext bytes sent so far. */
    long sentBytes() {
        return sentBytes;
    }

    /** Sends waiting ciphertext; true once none is left. */
    boolean flushPending() throws IOException {
        writeLock.lock();
        try {
            return flush();
        } finally {
            writeLock.unlock();
        }
    }

    /** Runs the TLS handshake to its end (blocking); the caller bounds it with a deadline. */
    void handshake() throws IOException {
        engine.beginHandshake();
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> runTasks();
                case NEED_WRAP -> wrapControl();
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (!unwrapOnce(null)) {
                        throw new EOFException("the peer closed the connection during the TLS handshake");
                    }
                }
                case FINISHED, NOT_HANDSHAKING -> {
                    return;
                }
            }
        }
    }

    /** The peer's certificate subject, for logs. */
    String peerName() {
        try {
            return engine.getSession().getPeerPrincipal().getName();
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            return "unverified";
        }
    }

    private void runTasks() {
        Runnable t;
        while ((t = engine.getDelegatedTask()) != null) {
            t.run();
        }
    }

    /**
     * Sends what the engine wants to send on its own (handshake, key update, close_notify), after any
     * ciphertext still waiting; what the socket does not take now is left to the connection's writer.
     */
    private void wrapControl() throws IOException {
        boolean left;
        writeLock.lock();
        try {
            while (true) {
                SSLEngineResult r = wrapAfterPending(EMPTY);
                if (r.getStatus() == SSLEngineResult.Status.CLOSED
                        || r.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                    break;
                }
            }
            left = !flush();
        } finally {
            writeLock.unlock();
        }
        Runnable p = onPendingOutput;
        if (left && p != null) {
            p.run();
        }
        if (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            runTasks();
        }
    }

    /** Wraps {@code src} into records after the ciphertext that waits, growing the buffer as needed. */
    private SSLEngineResult wrapAfterPending(ByteBuffer src) throws SSLException {
        netOut.compact();
        try {
            while (true) {
                SSLEngineResult r = engine.wrap(src, netOut);
                if (r.getStatus() != SSLEngineResult.Status.BUFFER_OVERFLOW) {
                    return r;
                }
                ByteBuffer bigger = ByteBuffer.allocateDirect(netOut.position()
                        + engine.getSession().getPacketBufferSize() * RECORDS_PER_WRITE);
                netOut.flip();
                bigger.put(netOut);
                netOut = bigger;
            }
        } finally {
            netOut.flip();
        }
    }

    /** Writes waiting ciphertext; true once none is left. A blocking socket (the handshake) takes it all. */
    private boolean flush() throws IOException {
        try {
            while (netOut.hasRemaining()) {
                int n = ch.write(netOut);
                if (n == 0) {
                    return false; // non-blocking, and the socket's buffer is full
                }
                sentBytes += n;
            }
            return true;
        } finally {
            pendingOutput = netOut.hasRemaining();
        }
    }

    /**
     * Unwraps one record into {@code dst} (or the internal buffer when null or too small), reading from
     * the socket as needed. False at the end of the stream.
     */
    private boolean unwrapOnce(ByteBuffer dst) throws IOException {
        while (true) {
            ByteBuffer target = dst != null && dst.remaining() >= engine.getSession().getApplicationBufferSize()
                    ? dst : null;
            SSLEngineResult r;
            if (target == null) {
                appIn.compact();
                try {
                    r = engine.unwrap(netIn, appIn);
                } finally {
                    appIn.flip();
                }
            } else {
                r = engine.unwrap(netIn, target);
            }
            switch (r.getStatus()) {
                case OK -> {
                    SSLEngineResult.HandshakeStatus hs = r.getHandshakeStatus();
                    if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                        runTasks();
                    }
                    if (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                        wrapControl(); // TLS 1.3 key update or the handshake's next flight
                    }
                    if (r.bytesConsumed() > 0 || r.bytesProduced() > 0) {
                        return true;
                    }
                    if (!readMore()) {
                        return false;
                    }
                }
                case BUFFER_UNDERFLOW -> {
                    if (!readMore()) {
                        return false;
                    }
                }
                case BUFFER_OVERFLOW -> {
                    if (target == null) {
                        ByteBuffer bigger = ByteBuffer.allocate(appIn.remaining()
                                + engine.getSession().getApplicationBufferSize());
                        bigger.put(appIn).flip();
                        appIn = bigger;
                    } else {
                        dst = null; // the session's record size grew: go through the internal buffer
                    }
                }
                case CLOSED -> {
                    inboundDone = true;
                    if (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                        try {
                            wrapControl(); // answer close_notify
                        } catch (IOException ignored) {
                            // the peer may be gone already
                        }
                    }
                    return false;
                }
            }
        }
    }

    /** Reads ciphertext from the socket; false at the end of the stream. */
    private boolean readMore() throws IOException {
        netIn.compact();
        try {
            int packet = engine.getSession().getPacketBufferSize();
            if (netIn.remaining() < packet) {
                ByteBuffer bigger = ByteBuffer.allocateDirect(netIn.position() + packet);
                netIn.flip();
                bigger.put(netIn);
                netIn = bigger;
            }
            int r;
            while ((r = ch.read(netIn)) == 0) {
                ReadWait w = readWait; // a blocking socket never returns 0 here: netIn has room
                if (w != null) {
                    w.awaitReadable();
                }
            }
            return r >= 0;
        } finally {
            netIn.flip();
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!dst.hasRemaining()) {
            return 0;
        }
        while (true) {
            if (appIn.hasRemaining()) {
                int n = Math.min(appIn.remaining(), dst.remaining());
                ByteBuffer slice = appIn.slice(appIn.position(), n);
                dst.put(slice);
                appIn.position(appIn.position() + n);
                return n;
            }
            if (inboundDone) {
                return -1;
            }
            int before = dst.position();
            boolean more;
            try {
                more = unwrapOnce(dst);
            } catch (SSLException e) {
                throw new IOException("TLS failure reading from the peer: " + e.getMessage(), e);
            }
            if (dst.position() > before) {
                return dst.position() - before;
            }
            if (!more) {
                inboundDone = true;
                if (!appIn.hasRemaining()) {
                    return -1;
                }
            }
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return (int) write(new ByteBuffer[] {src}, 0, 1);
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    /**
     * Wraps and sends as much of {@code srcs} as the socket takes now; returns the plaintext bytes
     * consumed. Ciphertext made but not sent waits ({@link #hasPendingOutput}) and goes first next time.
     */
    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        writeLock.lock();
        try {
            long total = 0;
            int packet = engine.getSession().getPacketBufferSize();
            while (flush() && remaining(srcs, offset, length)) {
                netOut.clear();
                try {
                    while (netOut.remaining() >= packet && remaining(srcs, offset, length)) {
                        SSLEngineResult r = engine.wrap(srcs, offset, length, netOut);
                        if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                            throw new ClosedChannelException();
                        }
                        if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                            if (netOut.position() == 0) {
                                netOut = ByteBuffer.allocateDirect(engine.getSession().getPacketBufferSize()
                                        * RECORDS_PER_WRITE);
                                packet = engine.getSession().getPacketBufferSize();
                            }
                            break;
                        }
                        total += r.bytesConsumed();
                    }
                } finally {
                    netOut.flip();
                }
            }
            return total;
        } finally {
            writeLock.unlock();
        }
    }

    private static boolean remaining(ByteBuffer[] srcs, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            if (srcs[i].hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Queues close_notify after what waits, then half-closes the socket once all of it is sent: the peer
     * reads to our last byte, then the end. False while ciphertext still waits (call again when writable).
     */
    boolean shutdownOutput() throws IOException {
        writeLock.lock();
        try {
            if (!engine.isOutboundDone()) {
                engine.closeOutbound();
                while (!engine.isOutboundDone()) {
                    if (wrapAfterPending(EMPTY).bytesProduced() == 0) {
                        break;
                    }
                }
            }
            if (!flush()) {
                return false;
            }
        } finally {
            writeLock.unlock();
        }
        ch.shutdownOutput();
        return true;
    }

    @Override
    public boolean isOpen() {
        return ch.isOpen();
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
