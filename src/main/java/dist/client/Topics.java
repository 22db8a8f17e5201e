package dist.client;

import dist.protocol.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A client's topic subscriptions: the handlers by topic, run one event at a time on a thread of
 * their own (never the connection's reader), and the subscriptions to make again on a scheduler
 * that restarted. Events beyond {@link #BACKLOG} waiting for slow handlers are dropped (and
 * counted), so a busy topic cannot fill this client's memory. Internal.
 */
public final class Topics {
    static final int BACKLOG = 100_000;
    private static final System.Logger LOG = System.getLogger("dist.client");

    private final Map<String, CopyOnWriteArrayList<Consumer<Message.TopicEvent>>> handlers = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<Message.TopicEvent> backlog = new LinkedBlockingQueue<>(BACKLOG);
    private final BooleanSupplier closed;
    private volatile boolean running;
    private long dropped;

    public Topics(BooleanSupplier closed) {
        this.closed = closed;
    }

    /** Adds {@code handler} to {@code topic}; true when it is the topic's first (the scheduler must be told). */
    public boolean add(String topic, Consumer<Message.TopicEvent> handler) {
        startRunner();
        boolean[] first = {false};
        handlers.compute(topic, (t, list) -> {
            if (list == null) {
                list = new CopyOnWriteArrayList<>();
                first[0] = true;
            }
            list.add(handler);
            return list;
        });
        return first[0];
    }

    /** Removes {@code handler} (null: every handler) of {@code topic}; true when none is left (the scheduler must be told). */
    public boolean remove(String topic, Consumer<Message.TopicEvent> handler) {
        boolean[] last = {false};
        handlers.computeIfPresent(topic, (t, list) -> {
            if (handler == null) {
                list.clear();
            } else {
                list.remove(handler);
            }
            last[0] = list.isEmpty();
            return list.isEmpty() ? null : list;
        });
        return last[0];
    }

    /** A message from the scheduler: a topic event is queued for its handlers. */
    public void onMessage(Message m) {
        if (m instanceof Message.TopicEvent e && handlers.containsKey(e.topic()) && !backlog.offer(e)) {
            if (dropped++ % 10_000 == 0) {
                LOG.log(System.Logger.Level.WARNING, "topic handlers are " + BACKLOG + " events behind; dropped "
                        + dropped + " so far (topic '" + e.topic() + "')");
            }
        }
    }

    /** The subscriptions to send a scheduler that restarted. */
    public List<Message> resubscribe() {
        List<Message> out = new ArrayList<>();
        for (String t : handlers.keySet()) {
            out.add(new Message.SubscribeTopic(t, true));
        }
        return out;
    }

    private void startRunner() {
        if (running) {
            return;
        }
        running = true;
        Thread.ofPlatform().daemon().name("dist-client-topics").start(this::run);
    }

    private void run() {
        while (!closed.getAsBoolean()) {
            Message.TopicEvent e;
            try {
                e = backlog.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ex) {
                return;
            }
            if (e == null) {
                continue;
            }
            for (Consumer<Message.TopicEvent> h : handlers.getOrDefault(e.topic(), new CopyOnWriteArrayList<>())) {
                try {
                    h.accept(e);
                } catch (RuntimeException ex) {
                    LOG.log(System.Logger.Level.WARNING, "a handler of topic '" + e.topic() + "' failed", ex);
                }
            }
        }
    }
}
