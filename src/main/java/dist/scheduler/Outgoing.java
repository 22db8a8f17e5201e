package dist.scheduler;

import dist.protocol.Message;

/**
 * A message the shell must send: {@code to} is a worker address or a client id;
 * {@code replyTo} is the request id it answers, or 0 for a one-way message.
 */
public record Outgoing(String to, Message message, long replyTo) {

    /** A one-way message. */
    public static Outgoing send(String to, Message message) {
        return new Outgoing(to, message, 0);
    }
}
