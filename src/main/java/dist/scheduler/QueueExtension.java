package dist.scheduler;

import dist.config.Config;
import dist.protocol.Message;
import dist.protocol.Message.Ack;
import dist.protocol.Message.QueueDrain;
import dist.protocol.Message.QueuePut;
import dist.protocol.Message.QueueSizeRequest;
import dist.protocol.Message.QueueTake;
import dist.protocol.Message.SharedCancelWait;
import dist.protocol.Message.SharedCount;
import dist.protocol.Message.SharedTimedOut;
import dist.protocol.Message.SharedValue;
import dist.protocol.Message.SharedValues;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Named FIFO queues shared by clients and tasks (dask's {@code Queue}). Items are bytes the
 * scheduler stores and forwards, never decodes; the futures inside an item are kept alive while it
 * is queued, then handed to the client that takes it. A put into a full queue and a take from an
 * empty one wait as requests answered later: by a take or a put, or on the tick after their deadline.
 * Each queue holds at most its {@code maxSize} items and {@code distributed.scheduler.queue-max-items};
 * waiters per queue and queues are bounded too. A queue that is empty and awaited by nobody is
 * forgotten (it is made again, empty, by its next use).
 */
final class QueueExtension implements SchedulerExtension {

    /** One item and the tasks it keeps alive. */
    record Item(SharedValue value, List<TaskState> tasks) {}

    /** A put that waits for room, with its item. */
    record PendingPut(SharedWait waiter, Item item) {}

    static final class Q {
        final String name;
        final int maxSize;
        final ArrayDeque<Item> items = new ArrayDeque<>();
        final ArrayDeque<SharedWait> takers = new ArrayDeque<>();
        final ArrayDeque<PendingPut> putters = new ArrayDeque<>();
        final SharedHolds holds;

        Q(String name, int maxSize) {
            this.name = name;
            this.maxSize = maxSize;
            this.holds = new SharedHolds("queue:" + name);
        }

        boolean idle() {
            return items.isEmpty() && takers.isEmpty() && putters.isEmpty();
        }
    }

    private final int maxItems;
    private final int maxWaiters;
    private final int maxNames;
    private final HashMap<String, Q> queues = new HashMap<>();
    private SchedulerContext core;

    QueueExtension() {
        this(Config.getInt("distributed.scheduler.queue-max-items"),
                Config.getInt("distributed.scheduler.shared-max-waiters"),
                Config.getInt("distributed.scheduler.shared-max-names"));
    }

    QueueExtension(int maxItems, int maxWaiters, int maxNames) {
        this.maxItems = maxItems;
        this.maxWaiters = maxWaiters;
        this.maxNames = maxNames;
    }

    @Override
    public void start(SchedulerContext core) {
        this.core = core;
    }

    @Override
    public Set<Class<? extends Message>> clientMessages() {
        return Set.of(QueuePut.class, QueueTake.class, QueueDrain.class, QueueSizeRequest.class,
                SharedCancelWait.class);
    }

    @Override
    public void onClient(String clientId, Message message, long requestId) {
        switch (message) {
            case QueuePut p -> put(clientId, p, requestId);
            case QueueTake t -> take(clientId, t, requestId);
            case QueueDrain d -> drain(clientId, d, requestId);
            case QueueSizeRequest s -> {
                Q q = queues.get(SharedNames.checked("queue", s.name()));
                core.reply(clientId, new SharedCount(q == null ? 0 : q.items.size()), requestId);
            }
            case SharedCancelWait c -> cancel(clientId, c);
            default -> throw new IllegalStateException("not a queue message: " + message);
        }
    }

    private Q queue(String name, int maxSize) {
        SharedNames.checked("queue", name);
        Q q = queues.get(name);
        if (q != null) {
            return q;
        }
        if (maxSize < 0 || maxSize > maxItems) {
            throw new IllegalArgumentException("queue '" + name + "': maxSize " + maxSize + " is not within 0.."
                    + maxItems + " (distributed.scheduler.queue-max-items); 0 means up to that limit");
        }
        return SharedNames.make(queues, "queue", name, maxNames, () -> new Q(name, maxSize == 0 ? maxItems : maxSize));
    }

    private void forgetIfIdle(Q q) {
        if (q.idle()) {
            queues.remove(q.name);
            q.holds.releaseAll(core);
        }
    }

    private void put(String clientId, QueuePut p, long requestId) {
        Q q = queue(p.name(), p.maxSize());
        if (p.value() == null) {
            throw new IllegalArgumentException("queue '" + p.name() + "': a put needs a value");
        }
        List<TaskState> tasks = SharedHolds.resolve(core, "an item put on queue '" + p.name() + "'", p.keys());
        Item item = new Item(new SharedValue(p.value(), p.keys() == null ? List.of() : List.copyOf(p.keys())), tasks);
        if (!q.takers.isEmpty()) {
            hand(q.takers.poll(), item);
            core.reply(clientId, new Ack(), requestId);
            return;
        }
        if (q.items.size() < q.maxSize) {
            q.items.add(item);
            q.holds.hold(core, tasks);
            core.reply(clientId, new Ack(), requestId);
            return;
        }
        if (p.timeoutMillis() <= 0) {
            core.reply(clientId, new SharedTimedOut("queue '" + q.name + "' is full (" + q.maxSize + " items)"), requestId);
            forgetIfIdle(q);
            return;
        }
        if (q.putters.size() >= maxWaiters) {
            throw new IllegalArgumentException("queue '" + q.name + "' has " + q.putters.size() + " puts waiting already,"
                    + " its limit (distributed.scheduler.shared-max-waiters)");
        }
        q.holds.hold(core, tasks);
        q.putters.add(new PendingPut(new SharedWait(clientId, requestId, p.waitId(),
                SharedWait.deadline(core.now(), p.timeoutMillis())), item));
    }

    private void take(String clientId, QueueTake t, long requestId) {
        Q q = queue(t.name(), t.maxSize());
        Item item = q.items.poll();
        if (item != null) {
            SharedValue handed = SharedHolds.handOver(core, clientId, item.value(), item.tasks());
            q.holds.unhold(core, item.tasks());
            core.reply(clientId, handed, requestId);
            admitPutter(q);
            forgetIfIdle(q);
            return;
        }
        if (t.timeoutMillis() <= 0) {
            core.reply(clientId, new SharedTimedOut("queue '" + q.name + "' is empty"), requestId);
            forgetIfIdle(q);
            return;
        }
        if (q.takers.size() >= maxWaiters) {
            throw new IllegalArgumentException("queue '" + q.name + "' has " + q.takers.size() + " takes waiting already,"
                    + " its limit (distributed.scheduler.shared-max-waiters)");
        }
        q.takers.add(new SharedWait(clientId, requestId, t.waitId(), SharedWait.deadline(core.now(), t.timeoutMillis())));
    }

    private void drain(String clientId, QueueDrain d, long requestId) {
        Q q = queues.get(SharedNames.checked("queue", d.name()));
        ArrayList<SharedValue> out = new ArrayList<>();
        if (q != null) {
            int max = d.max() <= 0 ? Integer.MAX_VALUE : d.max();
            for (Item item; out.size() < max && (item = q.items.poll()) != null; ) {
                out.add(SharedHolds.handOver(core, clientId, item.value(), item.tasks()));
                q.holds.unhold(core, item.tasks());
                admitPutter(q);
            }
            forgetIfIdle(q);
        }
        core.reply(clientId, new SharedValues(out), requestId);
    }

    /** A waiting item goes to a waiting taker, without passing through the queue. */
    private void hand(SharedWait taker, Item item) {
        core.reply(taker.clientId(), SharedHolds.handOver(core, taker.clientId(), item.value(), item.tasks()),
                taker.requestId());
    }

    /** Room was made: the oldest waiting put enters the queue (it already holds its keys). */
    private void admitPutter(Q q) {
        PendingPut p = q.putters.poll();
        if (p != null) {
            q.items.add(p.item());
            core.reply(p.waiter().clientId(), new Ack(), p.waiter().requestId());
        }
    }

    private void cancel(String clientId, SharedCancelWait c) {
        Q q = c.name() == null ? null : queues.get(c.name());
        if (q == null) {
            return;
        }
        q.takers.removeIf(w -> w.clientId().equals(clientId) && w.waitId() == c.waitId());
        for (Iterator<PendingPut> it = q.putters.iterator(); it.hasNext(); ) {
            PendingPut p = it.next();
            if (p.waiter().clientId().equals(clientId) && p.waiter().waitId() == c.waitId()) {
                it.remove();
                q.holds.unhold(core, p.item().tasks());
            }
        }
        forgetIfIdle(q);
    }

    @Override
    public void tick() {
        long now = core.now();
        for (Q q : new ArrayList<>(queues.values())) {
            for (Iterator<SharedWait> it = q.takers.iterator(); it.hasNext(); ) {
                SharedWait w = it.next();
                if (w.expired(now)) {
                    it.remove();
                    core.reply(w.clientId(), new SharedTimedOut("queue '" + q.name + "' stayed empty"), w.requestId());
                }
            }
            for (Iterator<PendingPut> it = q.putters.iterator(); it.hasNext(); ) {
                PendingPut p = it.next();
                if (p.waiter().expired(now)) {
                    it.remove();
                    q.holds.unhold(core, p.item().tasks());
                    core.reply(p.waiter().clientId(), new SharedTimedOut("queue '" + q.name + "' stayed full ("
                            + q.maxSize + " items)"), p.waiter().requestId());
                }
            }
            forgetIfIdle(q);
        }
    }

    /** A client that left waits no more: its puts are dropped (it never heard they went in). */
    @Override
    public void clientGone(String clientId) {
        for (Q q : new ArrayList<>(queues.values())) {
            q.takers.removeIf(w -> w.clientId().equals(clientId));
            for (Iterator<PendingPut> it = q.putters.iterator(); it.hasNext(); ) {
                PendingPut p = it.next();
                if (p.waiter().clientId().equals(clientId)) {
                    it.remove();
                    q.holds.unhold(core, p.item().tasks());
                }
            }
            forgetIfIdle(q);
        }
    }

    /**
     * Every task was forgotten: items that hold futures are dropped (their data is gone, and so are
     * the puts waiting with such items, refused); plain values stay queued.
     */
    @Override
    public void clusterRestarted(String clientId, String reason) {
        for (Q q : new ArrayList<>(queues.values())) {
            q.holds.forget();
            q.items.removeIf(i -> !i.tasks().isEmpty());
            for (Iterator<PendingPut> it = q.putters.iterator(); it.hasNext(); ) {
                PendingPut p = it.next();
                if (!p.item().tasks().isEmpty()) {
                    it.remove();
                    core.reply(p.waiter().clientId(), new Message.ErrorReply("the cluster restarted (" + reason
                            + "): the futures of this item on queue '" + q.name + "' are gone"), p.waiter().requestId());
                }
            }
            while (!q.putters.isEmpty() && q.items.size() < q.maxSize) {
                admitPutter(q);
            }
            forgetIfIdle(q);
        }
    }

    /** Items in queue {@code name} (0 when there is none); for tests. */
    int size(String name) {
        Q q = queues.get(name);
        return q == null ? 0 : q.items.size();
    }

    /** Queues the extension keeps. */
    int queueCount() {
        return queues.size();
    }

    @Override
    public void validate() {
        for (Q q : queues.values()) {
            if (q.items.size() > q.maxSize) {
                throw new IllegalStateException("queue '" + q.name + "' holds " + q.items.size() + " items, over " + q.maxSize);
            }
            if (!q.items.isEmpty() && !q.takers.isEmpty()) {
                throw new IllegalStateException("queue '" + q.name + "' has items and waiting takes at once");
            }
            if (!q.putters.isEmpty() && q.items.size() < q.maxSize) {
                throw new IllegalStateException("queue '" + q.name + "' has room and waiting puts at once");
            }
        }
    }
}
