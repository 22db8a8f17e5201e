package dist.comm;

import dist.protocol.Message;

/** Receives what arrives on a {@link Connection}; called on the connection's reader thread. */
public interface Handler {

    /**
     * A message arrived. {@code requestId} is 0 for a one-way message; otherwise the peer waits
     * for {@link Connection#reply(long, Message)} with that id.
     */
    void onMessage(Connection connection, Message message, long requestId);

    /**
     * Whether events this handler submits to {@link EventLoop}s for one-way messages may wait, while
     * more whole messages from the same peer are already at hand, to be handled together with theirs
     * in one batch. Only for handlers that never wait, on the reader's thread, for a loop to handle what
     * they submitted.
     */
    default boolean batchesReads() {
        return false;
    }

    /** The connection ended: {@code cause} is null for a clean close by either side. */
    default void onClose(Connection connection, Throwable cause) {
    }
}
