package dist.client;

import dist.comm.CommConfig;
import dist.comm.Connection;
import dist.comm.Handler;
import dist.protocol.Message;
import dist.protocol.Role;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The two things the client does with a connection: send one-way messages and make requests.
 * A seam so the client's logic can be tested without sockets. Internal.
 */
public interface Transport extends AutoCloseable {

    void send(Message message);

    CompletableFuture<Message> request(Message message, Duration timeout);

    @Override
    void close();

    /** Opens transports to addresses ("host:port"); incoming one-way messages go to {@code inbox}. */
    interface Connector {
        Transport connect(String address, Inbox inbox) throws IOException;
    }

    /** Receives what a transport's peer sends unasked. Called on the transport's reader thread. */
    interface Inbox {
        void onMessage(Message message);

        /** The connection ended; {@code cause} is null for a clean close. */
        void onClose(Throwable cause);

        Inbox IGNORE = new Inbox() {
            @Override
            public void onMessage(Message message) {
            }

            @Override
            public void onClose(Throwable cause) {
            }
        };
    }

    /** Transports over {@link Connection}s as a client. */
    static Connector tcp(CommConfig config) {
        return (address, inbox) -> {
            Connection c = Connection.connect(address, Role.CLIENT, config, new Handler() {
                @Override
                public void onMessage(Connection connection, Message message, long requestId) {
                    if (requestId != 0 && message instanceof Message.Ping) {
                        connection.reply(requestId, message);
                        return;
                    }
                    if (requestId != 0) {
                        connection.reply(requestId, new Message.ErrorReply(
                                "a client serves no requests; got " + message.getClass().getSimpleName()));
                        return;
                    }
                    inbox.onMessage(message);
                }

                @Override
                public void onClose(Connection connection, Throwable cause) {
                    inbox.onClose(cause);
                }
            });
            return new Transport() {
                @Override
                public void send(Message message) {
                    c.send(message);
                }

                @Override
                public CompletableFuture<Message> request(Message message, Duration timeout) {
                    return c.request(message, timeout);
                }

                @Override
                public void close() {
                    c.close();
                }
            };
        };
    }
}
