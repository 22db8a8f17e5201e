package dist;

/**
 * A handler's subscription to a topic; {@link #close()} ends it. Given by {@link Client#subscribeTopic}:
 *
 * <pre>{@code
 * try (Subscription s = client.subscribeTopic("alerts", e -> System.out.println(e.message()))) {
 *     ...
 * }
 * }</pre>
 */
public interface Subscription extends AutoCloseable {

    /** The topic subscribed to. */
    String topic();

    /** Stops this handler; idempotent. */
    @Override
    void close();
}
