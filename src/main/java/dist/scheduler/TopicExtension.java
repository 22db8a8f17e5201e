package dist.scheduler;

import dist.config.Config;
import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.GetTopicEvents;
import dist.protocol.Message.LogEvent;
import dist.protocol.Message.SubscribeTopic;
import dist.protocol.Message.TopicEvent;
import dist.protocol.Message.TopicEvents;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Topics of events (dask's {@code log_event}, {@code subscribe_topic}, {@code get_events}): each
 * event, bytes with the time its sender stamped, is kept among the topic's recent ones (at most
 * {@code distributed.scheduler.events-log-length}, the oldest dropped) and sent to every client
 * subscribed to the topic. Topics are bounded in number; one with no events and no subscriber is
 * forgotten.
 */
final class TopicExtension implements SchedulerExtension {

    private static final class T {
        final ArrayDeque<TopicEvent> recent = new ArrayDeque<>();
        final LinkedHashSet<String> subscribers = new LinkedHashSet<>();
    }

    private final int logLength;
    private final int maxNames;
    private final HashMap<String, T> topics = new HashMap<>();
    private SchedulerContext core;

    TopicExtension() {
        this(Config.getInt("distributed.scheduler.events-log-length"),
                Config.getInt("distributed.scheduler.shared-max-names"));
    }

    TopicExtension(int logLength, int maxNames) {
        this.logLength = logLength;
        this.maxNames = maxNames;
    }

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(LogEvent.class, SubscribeTopic.class, GetTopicEvents.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        switch (message) {
            case LogEvent e -> {
                if (e.message() == null) {
                    throw new IllegalArgumentException("topic '" + e.topic() + "': an event needs a message");
                }
                T t = topic(e.topic());
                TopicEvent event = new TopicEvent(e.topic(), e.epochMillis(), e.message());
                if (logLength > 0) {
                    t.recent.add(event);
                    while (t.recent.size() > logLength) {
                        t.recent.poll();
                    }
                }
                for (String s : t.subscribers) {
                    core.send(s, event);
                }
                forgetIfIdle(e.topic(), t);
                if (requestId != 0) {
                    core.reply(clientId, new Ack(), requestId);
                }
            }
            case SubscribeTopic s -> {
                if (s.on()) {
                    topic(s.topic()).subscribers.add(clientId);
                } else {
                    T t = topics.get(SharedNames.checked("topic", s.topic()));
                    if (t != null) {
                        t.subscribers.remove(clientId);
                        forgetIfIdle(s.topic(), t);
                    }
                }
                if (requestId != 0) {
                    core.reply(clientId, new Ack(), requestId);
                }
            }
            case GetTopicEvents g -> {
                T t = topics.get(SharedNames.checked("topic", g.topic()));
                core.reply(clientId, new TopicEvents(t == null ? List.of() : List.copyOf(t.recent)), requestId);
            }
            default -> throw new IllegalStateException("not a topic message: " + message);
        }
    }

    private T topic(String name) {
        return SharedNames.getOrMake(topics, "topic", name, maxNames, T::new);
    }

    private void forgetIfIdle(String name, T t) {
        if (t.recent.isEmpty() && t.subscribers.isEmpty()) {
            topics.remove(name);
        }
    }

    @Override
    public void clientGone(String clientId) {
        for (var e : new ArrayList<>(topics.entrySet())) {
            e.getValue().subscribers.remove(clientId);
            forgetIfIdle(e.getKey(), e.getValue());
        }
    }

    /** Topics the extension keeps. */
    int topicCount() {
        return topics.size();
    }
}
