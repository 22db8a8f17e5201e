package dist;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A TCP relay on 127.0.0.1 for tests that look at or disturb the wire: it counts the bytes that flow
 * towards the target, can record every byte in both directions, and drops its links on demand.
 *
 * <pre>{@code
 * try (TcpRelay relay = new TcpRelay(server.port(), false)) {
 *     Connection c = Connection.connect(relay.address(), ...);
 *     ... relay.bytesToTarget() ...
 * }
 * }</pre>
 */
public final class TcpRelay implements AutoCloseable {
    private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final int targetPort;
    private final boolean record;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicLong toTarget = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final ByteArrayOutputStream seen = new ByteArrayOutputStream();

    /** Relays to 127.0.0.1:{@code targetPort}; with {@code record}, keeps a copy of every byte. */
    public TcpRelay(int targetPort, boolean record) throws IOException {
        this.targetPort = targetPort;
        this.record = record;
        Thread.ofVirtual().start(this::acceptLoop);
    }

    public int port() {
        return listener.getLocalPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    /** Bytes that went towards the target so far. */
    public long bytesToTarget() {
        return toTarget.get();
    }

    /** Every byte seen in either direction (only when recording). */
    public byte[] recorded() {
        lock.lock();
        try {
            return seen.toByteArray();
        } finally {
            lock.unlock();
        }
    }

    /** Drops every link open now, as a network failure would; later links are relayed as usual. */
    public void cut() {
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        sockets.clear();
    }

    private void acceptLoop() {
        try {
            while (true) {
                Socket in = listener.accept();
                Socket out = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(in);
                sockets.add(out);
                Thread.ofVirtual().start(() -> pump(in, out, true));
                Thread.ofVirtual().start(() -> pump(out, in, false));
            }
        } catch (IOException e) {
            // closed
        }
    }

    private void pump(Socket from, Socket to, boolean towardsTarget) {
        byte[] buf = new byte[64 << 10];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                if (towardsTarget) {
                    toTarget.addAndGet(n);
                }
                if (record) {
                    lock.lock();
                    try {
                        seen.write(buf, 0, n);
                    } finally {
                        lock.unlock();
                    }
                }
                out.write(buf, 0, n);
                out.flush();
            }
            to.shutdownOutput(); // the other side reads an end of stream, as without the relay
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        cut();
    }
}
