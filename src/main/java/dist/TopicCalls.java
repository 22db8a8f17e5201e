package dist;

import dist.client.SharedOps;
import dist.client.Topics;
import dist.protocol.Message;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** Topics on behalf of a {@link Client}: logging, subscribing, reading the recent events. */
final class TopicCalls {
    private final Client client;
    private final SharedOps ops;
    private final Topics topics;

    TopicCalls(Client client, dist.client.ClientCore core, SharedOps ops) {
        this.client = client;
        this.ops = ops;
        this.topics = new Topics(core::isClosed);
        core.listen(topics::onMessage);
        core.resendOnReconnect(topics::resubscribe); // a scheduler that restarted sends events again
    }

    private static String checked(String topic) {
        if (topic == null || topic.isEmpty()) {
            throw new IllegalArgumentException("a topic needs a non-empty name");
        }
        return topic;
    }

    void log(String topic, Object message) {
        Objects.requireNonNull(message, "an event needs a message");
        byte[] bytes = ops.encodePlain(message);
        ops.tell(new Message.LogEvent(checked(topic), System.currentTimeMillis(), bytes));
    }

    List<TopicEvent> events(String topic) {
        Message m = Calls.call(client.link, "Client.events of '" + topic + "'", null, Calls.REQUEST_TIMEOUT,
                () -> ops.ask(new Message.GetTopicEvents(checked(topic))));
        List<TopicEvent> out = new ArrayList<>();
        for (Message.TopicEvent e : ((Message.TopicEvents) m).events()) {
            out.add(decode(e));
        }
        return out;
    }

    private TopicEvent decode(Message.TopicEvent e) {
        return new TopicEvent(e.topic(), Instant.ofEpochMilli(e.epochMillis()), ops.decodeBytes(e.message()));
    }

    Subscription subscribe(String topic, Consumer<TopicEvent> handler) {
        checked(topic);
        Objects.requireNonNull(handler, "handler");
        Consumer<Message.TopicEvent> h = e -> handler.accept(decode(e));
        if (topics.add(topic, h)) {
            try {
                tellScheduler(topic, true);
            } catch (RuntimeException e) {
                topics.remove(topic, h); // not subscribed: nothing to make again on a reconnect
                throw e;
            }
        }
        AtomicBoolean closed = new AtomicBoolean();
        return new Subscription() {
            @Override
            public String topic() {
                return topic;
            }

            @Override
            public void close() {
                if (closed.compareAndSet(false, true) && topics.remove(topic, h)) {
                    tellScheduler(topic, false);
                }
            }
        };
    }

    void unsubscribe(String topic) {
        if (topics.remove(checked(topic), null)) {
            tellScheduler(topic, false);
        }
    }

    private void tellScheduler(String topic, boolean on) {
        Calls.call(client.link, "Client.subscribeTopic of '" + topic + "'", null, Calls.REQUEST_TIMEOUT,
                () -> ops.ask(new Message.SubscribeTopic(topic, on)));
    }
}
