package dist.comm;

import dist.protocol.Message;
import dist.protocol.Role;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * One framed, handshaken TCP connection. One virtual thread reads and hands messages to the
 * {@link Handler}; sends never block on the network for long: messages queued while a write is
 * in flight go out together in one gathering write.
 */
public final class Connection implements AutoCloseable {

    /**
     * Connects to {@code hostPort} ("host:port"), retrying with back-off until
     * {@link CommConfig#connectTimeout()}, and completes the handshake as {@code role}.
     */
    public static Connection connect(String hostPort, Role role, CommConfig config, Handler handler)
            throws IOException {
        throw new UnsupportedOperationException("not yet");
    }

    /** Queues a one-way message. */
    public void send(Message message) {
        throw new UnsupportedOperationException("not yet");
    }

    /** Sends a request and completes with the reply, or exceptionally on timeout or close. */
    public CompletableFuture<Message> request(Message message) {
        throw new UnsupportedOperationException("not yet");
    }

    public CompletableFuture<Message> request(Message message, Duration timeout) {
        throw new UnsupportedOperationException("not yet");
    }

    /** Answers the request {@code requestId} received by this connection's handler. */
    public void reply(long requestId, Message message) {
        throw new UnsupportedOperationException("not yet");
    }

    /** The role the peer announced in the handshake. */
    public Role peerRole() {
        throw new UnsupportedOperationException("not yet");
    }

    /** The peer's address as "host:port". */
    public String peerAddress() {
        throw new UnsupportedOperationException("not yet");
    }

    public boolean isOpen() {
        throw new UnsupportedOperationException("not yet");
    }

    /** Closes cleanly: queued messages are flushed first, the handler sees a null cause. */
    @Override
    public void close() {
        throw new UnsupportedOperationException("not yet");
    }

    /** Closes at once, dropping queued messages (the handler sees {@code cause}). */
    public void abort(Throwable cause) {
        throw new UnsupportedOperationException("not yet");
    }
}
