package dist.comm;

import dist.protocol.Message;
import dist.protocol.Role;

/**
 * Where messages to one party go: a {@link Connection}, or a party in the same process that takes
 * messages as objects, with no socket and no encoding in between.
 *
 * <pre>{@code
 * Peer to = routes.get("client-1");
 * if (to != null && to.isOpen()) to.send(new Message.Ack());
 * }</pre>
 */
public interface Peer {

    /** Sends a one-way message. @throws ConnectionClosedException once the peer is closed */
    void send(Message message);

    /** Answers the peer's request {@code requestId}. @throws ConnectionClosedException once closed */
    void reply(long requestId, Message message);

    /** What the peer said it is. */
    Role peerRole();

    boolean isOpen();

    /** Ends the link; the other side sees a clean close. */
    void close();
}
