package dist.security;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.Handler;
import dist.comm.Server;
import dist.protocol.Role;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Test helpers: short-timeout configs, echo endpoints and a log capture. */
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
}
