package dist.scheduler;

import dist.config.Config;
import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.EventClear;
import dist.protocol.Message.EventIsSet;
import dist.protocol.Message.EventSet;
import dist.protocol.Message.EventWait;
import dist.protocol.Message.SharedCancelWait;
import dist.protocol.Message.SharedFlag;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Set;

/**
 * Named events (dask's {@code Event}): a flag that is set or clear, and the calls waiting for it to
 * be set. A wait is a request answered when the event is set, or with "not set" on the tick after
 * its deadline. As in dask, an event that is clear and awaited by nobody is forgotten (a clear
 * event and an unknown one look the same). Waiters per event and events are bounded.
 */
final class EventExtension implements SchedulerExtension {

    private static final class E {
        boolean set;
        final ArrayDeque<SharedWait> waiters = new ArrayDeque<>();
    }

    private final int maxWaiters;
    private final int maxNames;
    private final HashMap<String, E> events = new HashMap<>();
    private SchedulerContext core;

    EventExtension() {
        this(Config.getInt("distributed.scheduler.shared-max-waiters"),
                Config.getInt("distributed.scheduler.shared-max-names"));
    }

    EventExtension(int maxWaiters, int maxNames) {
        this.maxWaiters = maxWaiters;
        this.maxNames = maxNames;
    }

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(EventSet.class, EventClear.class, EventWait.class, EventIsSet.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        switch (message) {
            case EventSet s -> {
                E e = event(s.name());
                e.set = true;
                for (SharedWait w; (w = e.waiters.poll()) != null; ) {
                    core.reply(w.clientId(), new SharedFlag(true), w.requestId());
                }
                core.reply(clientId, new Ack(), requestId);
            }
            case EventClear c -> {
                E e = events.get(SharedNames.checked("event", c.name()));
                if (e != null) {
                    e.set = false;
                    forgetIfIdle(c.name(), e);
                }
                core.reply(clientId, new Ack(), requestId);
            }
            case EventIsSet s -> {
                E e = events.get(SharedNames.checked("event", s.name()));
                core.reply(clientId, new SharedFlag(e != null && e.set), requestId);
            }
            case EventWait w -> {
                E e = events.get(SharedNames.checked("event", w.name()));
                if (e != null && e.set) {
                    core.reply(clientId, new SharedFlag(true), requestId);
                } else if (w.timeoutMillis() <= 0) {
                    core.reply(clientId, new SharedFlag(false), requestId);
                } else {
                    e = event(w.name());
                    if (e.waiters.size() >= maxWaiters) {
                        throw new IllegalArgumentException("event '" + w.name() + "' has " + e.waiters.size()
                                + " waits already, its limit (distributed.scheduler.shared-max-waiters)");
                    }
                    e.waiters.add(new SharedWait(clientId, requestId, 0, SharedWait.deadline(core.now(), w.timeoutMillis())));
                }
            }
            default -> throw new IllegalStateException("not an event message: " + message);
        }
    }

    private E event(String name) {
        return SharedNames.getOrMake(events, "event", name, maxNames, E::new);
    }

    private void forgetIfIdle(String name, E e) {
        if (!e.set && e.waiters.isEmpty()) {
            events.remove(name);
        }
    }

    @Override
    public void tick() {
        long now = core.now();
        for (var entry : new ArrayList<>(events.entrySet())) {
            E e = entry.getValue();
            for (Iterator<SharedWait> it = e.waiters.iterator(); it.hasNext(); ) {
                SharedWait w = it.next();
                if (w.expired(now)) {
                    it.remove();
                    core.reply(w.clientId(), new SharedFlag(false), w.requestId());
                }
            }
            forgetIfIdle(entry.getKey(), e);
        }
    }

    @Override
    public void clientGone(String clientId) {
        for (var entry : new ArrayList<>(events.entrySet())) {
            entry.getValue().waiters.removeIf(w -> w.clientId().equals(clientId));
            forgetIfIdle(entry.getKey(), entry.getValue());
        }
    }

    /** Events the extension keeps (set, or awaited). */
    int eventCount() {
        return events.size();
    }

    @Override
    public void validate() {
        for (var entry : events.entrySet()) {
            E e = entry.getValue();
            if (e.set && !e.waiters.isEmpty()) {
                throw new IllegalStateException("event '" + entry.getKey() + "' is set but has waiters");
            }
        }
    }
}
