package dist.client;

import dist.Future;
import dist.protocol.Message;
import dist.serial.Ref;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.Predicate;

/**
 * What queues, events and variables need of a client: values to bytes and back (the futures inside
 * a value travel as keys beside its bytes and come back as futures of this client), and waits of any
 * length made of requests each within the request timeout. Internal.
 */
public final class SharedOps {
    private static final AtomicLong WAIT_IDS = new AtomicLong();

    private final SchedulerLink link;
    private final Values codec;
    private final Tasks tasks;
    private final KeyRefs refs;

    private final String address;

    public SharedOps(String address, SchedulerLink link, Values codec, Tasks tasks, KeyRefs refs) {
        this.address = address;
        this.link = link;
        this.codec = codec;
        this.tasks = tasks;
        this.refs = refs;
    }

    /** A value as sent: its bytes and the keys of the futures inside it. */
    public record Wire(byte[] bytes, List<String> keys) {}

    public Wire encode(Object value) {
        Set<String> deps = new LinkedHashSet<>();
        byte[] bytes = codec.encodeValue(value, tasks.futureReplacer(deps));
        refs.awaitSent(deps);
        return new Wire(bytes, List.copyOf(deps));
    }

    /** The value of {@code v}; its futures are this client's, held here (the scheduler already counts this client as holding them). */
    public Object decode(Message.SharedValue v) {
        Object shape = codec.decodeValue(v.value());
        if (v.keys().isEmpty()) {
            return shape;
        }
        Map<String, Future<Object>> futures = new LinkedHashMap<>();
        for (String k : v.keys()) {
            futures.put(k, refs.holdKey(k));
        }
        v.known().forEach(refs::known); // the states at hand-over: the futures know them as they are returned
        link.sendToScheduler(new Message.UpdateGraph(link.id(), List.of(), List.copyOf(futures.keySet())), futures.values());
        return Shapes.rebuild(shape, Ref.class, r -> futures.get(r.key()));
    }

    public Object decodeBytes(byte[] bytes) {
        return codec.decodeValue(bytes);
    }

    public byte[] encodePlain(Object value) {
        return codec.encodeValue(value);
    }

    public String clientId() {
        return link.id();
    }

    /** A fresh id for a wait, to cancel it. */
    public long nextWaitId() {
        return WAIT_IDS.incrementAndGet();
    }

    /** Asks once; a refusal becomes an IllegalArgumentException with the scheduler's words. */
    public Message ask(Message request) throws InterruptedException, ExecutionException, TimeoutException {
        try {
            return checked(link.request(request));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof dist.comm.ConnectionClosedException c) {
                throw unavailable(c);
            }
            throw e;
        } catch (dist.comm.ConnectionClosedException c) {
            throw unavailable(c);
        }
    }

    /** Sends without waiting for an answer. */
    public void tell(Message message) {
        link.sendToScheduler(message, List.of());
    }

    /**
     * Waits up to {@code timeoutNanos} (Long.MAX_VALUE: without end) for an answer that is not a
     * timeout, asking again and again with {@code request(millis)}, each within the request timeout
     * so the scheduler's answer arrives before this side stops listening. The last answer is returned.
     */
    public Message await(LongFunction<Message> request, long timeoutNanos, Predicate<Message> timedOut)
            throws InterruptedException, ExecutionException, TimeoutException {
        long rt = link.requestTimeout().toNanos();
        long slice = Math.max(1_000_000L, rt - Math.max(200_000_000L, Math.min(rt / 5, 1_000_000_000L)));
        long start = System.nanoTime();
        while (true) {
            long left = timeoutNanos == Long.MAX_VALUE ? Long.MAX_VALUE : timeoutNanos - (System.nanoTime() - start);
            long now = Math.max(0, Math.min(left, slice));
            refs.flushReleases();
            Message m = ask(request.apply(now / 1_000_000L));
            if (!timedOut.test(m) || left <= slice) {
                return m;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    /** The client reconnects meanwhile; the call fails now rather than wait through the outage. */
    private ExecutionException unavailable(RuntimeException c) {
        return new ExecutionException(new dist.SchedulerUnavailableException(address, "the connection to the"
                + " scheduler is down (" + c.getMessage() + "); the client tries to reconnect within"
                + " distributed.client.reconnect-timeout", c));
    }

    private static Message checked(Message m) {
        if (m instanceof Message.ErrorReply e) {
            throw new IllegalArgumentException(e.message());
        }
        return m;
    }
}
