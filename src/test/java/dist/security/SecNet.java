package dist.security;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.Handler;
import dist.comm.Server;
import dist.protocol.Role;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Test helpers: short-timeout configs, echo endpoints, a log capture and a recording relay. */
final class SecNet {

    static final CommConfig QUICK = new CommConfig(Duration.ofSeconds(2), Duration.ofSeconds(10),
            Duration.ofSeconds(3), 1 << 16, CommConfig.DEFAULT.maxFrameBytes());

    private SecNet() {
    }

    static Handler echo() {
        return (c, m, id) -> {
            if (id != 0) {
                c.reply(id, m);
            }
        };
    }

    static Server server(CommConfig config) throws IOException {
        return Server.listen("127.0.0.1", 0, Role.SCHEDULER, config, c -> echo());
    }

    static Connection connect(int port, CommConfig config) throws IOException {
        return Connection.connect("127.0.0.1:" + port, Role.CLIENT, config, echo());
    }

    /** Captures what the "dist.comm" logger says while open. */
    static final class LogCapture extends java.util.logging.Handler implements AutoCloseable {
        private final Logger logger = Logger.getLogger("dist.comm");
        final List<String> lines = new CopyOnWriteArrayList<>();

        LogCapture() {
            logger.addHandler(this);
            setLevel(Level.ALL);
        }

        @Override
        public void publish(LogRecord r) {
            lines.add(r.getLevel() + " " + r.getMessage());
        }

        /** Waits (bounded) for a line containing every fragment. */
        boolean waitFor(Duration bound, String... fragments) throws InterruptedException {
            return dist.Wait.until(bound, () -> lines.stream().anyMatch(
                    l -> java.util.Arrays.stream(fragments).allMatch(l::contains)));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }

    /** A TCP relay on 127.0.0.1 that records every byte passing in either direction. */
    static final class Relay implements AutoCloseable {
        final ServerSocket listener;
        final java.io.ByteArrayOutputStream seen = new java.io.ByteArrayOutputStream();
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        Relay(int targetPort) throws IOException {
            listener = new ServerSocket();
            listener.bind(new InetSocketAddress("127.0.0.1", 0));
            Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        Socket in = listener.accept();
                        Socket out = new Socket("127.0.0.1", targetPort);
                        sockets.add(in);
                        sockets.add(out);
                        pump(in.getInputStream(), out.getOutputStream());
                        pump(out.getInputStream(), in.getOutputStream());
                    }
                } catch (IOException e) {
                    // closed
                }
            });
        }

        int port() {
            return listener.getLocalPort();
        }

        byte[] bytes() {
            lock.lock();
            try {
                return seen.toByteArray();
            } finally {
                lock.unlock();
            }
        }

        private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();

        private void pump(InputStream from, OutputStream to) {
            Thread.ofVirtual().start(() -> {
                byte[] b = new byte[8192];
                try {
                    int n;
                    while ((n = from.read(b)) > 0) {
                        lock.lock();
                        try {
                            seen.write(b, 0, n);
                        } finally {
                            lock.unlock();
                        }
                        to.write(b, 0, n);
                    }
                } catch (IOException e) {
                    // one side closed
                } finally {
                    try {
                        to.close();
                    } catch (IOException ignored) {
                        // closing anyway
                    }
                }
            });
        }

        @Override
        public void close() throws IOException {
            listener.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
