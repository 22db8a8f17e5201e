package dist.comm;

import dist.protocol.Role;

import java.io.IOException;
import java.util.function.Function;

/** Accepts connections on a port; each completes the handshake, then gets its own handler. */
public final class Server implements AutoCloseable {

    /**
     * Listens on {@code host}:{@code port} (port 0 picks a free one) as {@code role}; {@code acceptor}
     * gives each handshaken connection its handler.
     */
    public static Server listen(String host, int port, Role role, CommConfig config,
                                Function<Connection, Handler> acceptor) throws IOException {
        throw new UnsupportedOperationException("not yet");
    }

    /** The port listened on. */
    public int port() {
        throw new UnsupportedOperationException("not yet");
    }

    /** Stops accepting and closes every connection it accepted. */
    @Override
    public void close() {
        throw new UnsupportedOperationException("not yet");
    }
}
