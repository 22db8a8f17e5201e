package dist;

import java.time.Instant;

/**
 * One event of a topic: when its sender logged it and what it logged. Given by {@link Client#events}
 * and to the handlers of {@link Client#subscribeTopic}:
 *
 * <pre>{@code
 * client.logEvent("progress", "half done");
 * for (TopicEvent e : client.events("progress")) System.out.println(e.time() + " " + e.message());
 * }</pre>
 */
public record TopicEvent(String topic, Instant time, Object message) {}
