package dist;

import dist.client.SharedOps;
import dist.protocol.Message;

import java.time.Duration;
import java.util.Objects;

/**
 * A flag on the scheduler that clients and tasks set, clear and wait for (dask's {@code Event}).
 * Made by {@link Client#event(String)}:
 *
 * <pre>{@code
 * Event ready = client.event("ready");
 * // in a task: WorkerClient.get().event("ready").set();
 * boolean came = ready.waitFor(Duration.ofSeconds(10));   // false when not set within 10 s
 * }</pre>
 *
 * <p>The flag lives on the scheduler only: after it restarts, every event is clear.
 */
public final class Event {
    private final Client client;
    private final SharedOps ops;
    private final String name;

    Event(Client client, SharedOps ops, String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("an event needs a non-empty name");
        }
        this.client = client;
        this.ops = ops;
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** Sets the flag; every waiter wakes. */
    public void set() {
        Calls.call(client.link, "Event.set of '" + name + "'", null, Calls.REQUEST_TIMEOUT,
                () -> ops.ask(new Message.EventSet(name)));
    }

    /** Clears the flag; later waits wait again. */
    public void clear() {
        Calls.call(client.link, "Event.clear of '" + name + "'", null, Calls.REQUEST_TIMEOUT,
                () -> ops.ask(new Message.EventClear(name)));
    }

    /** Whether the flag is set now. */
    public boolean isSet() {
        Message m = Calls.call(client.link, "Event.isSet of '" + name + "'", null, Calls.REQUEST_TIMEOUT,
                () -> ops.ask(new Message.EventIsSet(name)));
        return ((Message.SharedFlag) m).value();
    }

    /** Waits up to {@code timeout} for the flag to be set; true when it is (dask's {@code wait(timeout)}). */
    public boolean waitFor(Duration timeout) {
        long nanos = Objects.requireNonNull(timeout, "timeout").isNegative() ? 0 : saturated(timeout);
        Message m = Calls.call(client.link, "Event.waitFor of '" + name + "'", timeout, "the timeout of Event.waitFor",
                () -> ops.await(ms -> new Message.EventWait(name, ms), nanos,
                        r -> r instanceof Message.SharedFlag f && !f.value()));
        return ((Message.SharedFlag) m).value();
    }

    /** Waits until the flag is set, however long that takes. */
    public void await() {
        Calls.call(client.link, "Event.await of '" + name + "'", null, "nothing (it waits without end)",
                () -> ops.await(ms -> new Message.EventWait(name, ms), Long.MAX_VALUE,
                        r -> r instanceof Message.SharedFlag f && !f.value()));
    }

    static long saturated(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public String toString() {
        return "Event[" + name + "]";
    }
}
