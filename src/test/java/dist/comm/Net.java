package dist.comm;

import dist.protocol.Message;
import dist.protocol.Role;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Test helpers: endpoints on 127.0.0.1 and a capture of what dist.comm logs. */
final class Net {

    /** The codec the connection tests run with. */
    static final FrameCodec CODEC = FrameCodec.DEFAULT;

    static final CommConfig FAST = new CommConfig(Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(5), 1 << 16, CommConfig.DEFAULT.maxFrameBytes());

    private Net() {
    }

    static Server server(CommConfig config, Function<Connection, dist.comm.Handler> acceptor) throws IOException {
        return Server.listen("127.0.0.1", 0, Role.SCHEDULER, config, acceptor, CODEC);
    }

    static Connection connect(Server s, dist.comm.Handler h) throws IOException {
        return Connection.connect("127.0.0.1:" + s.port(), Role.CLIENT, FAST, h, CODEC);
    }

    /** Replies to every request with the same message. */
    static dist.comm.Handler echo() {
        return (c, m, id) -> {
            if (id != 0) {
                c.reply(id, m);
            }
        };
    }

    /** A handler that records messages and the close cause. */
    static final class Recorder implements dist.comm.Handler {
        final LinkedBlockingQueue<Message> messages = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<Object> closed = new LinkedBlockingQueue<>();

        @Override
        public void onMessage(Connection connection, Message message, long requestId) {
            messages.add(message);
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            closed.add(cause == null ? "clean" : cause);
        }
    }

    /** Captures records of the "dist.comm" logger while open. */
    static final class LogCapture extends Handler implements AutoCloseable {
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

        boolean waitFor(String fragment, Duration bound) throws InterruptedException {
            return dist.Wait.until(bound, () -> lines.stream().anyMatch(l -> l.contains(fragment)));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }
}
