package dist;

import dist.client.SharedOps;
import dist.protocol.Message;

import java.time.Duration;
import java.util.Objects;

/**
 * A named value on the scheduler that clients and tasks set and read (dask's {@code Variable}).
 * The value may hold futures: the scheduler keeps their data alive until the value is replaced or
 * deleted, and a reader gets futures of its own client. Made by {@link Client#variable(String)}:
 *
 * <pre>{@code
 * Variable<Future<Integer>> latest = client.variable("latest");
 * latest.set(client.submit(Demo::inc, 1));
 * int v = latest.get(Duration.ofSeconds(5)).result();   // waits up to 5 s for a value
 * }</pre>
 *
 * <p>The value lives on the scheduler only: after it restarts, every variable is unset.
 */
public final class Variable<T> {
    private final Client client;
    private final SharedOps ops;
    private final String name;

    Variable(Client client, SharedOps ops, String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a variable needs a non-empty name");
        }
        this.client = client;
        this.ops = ops;
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** Sets the value (not null); waiting readers get it. */
    public void set(T value) {
        Objects.requireNonNull(value, "a variable holds no null value; delete() it instead");
        SharedOps.Wire w = ops.encode(value);
        try {
            Calls.call(client.link, "Variable.set of '" + name + "'", null, Calls.REQUEST_TIMEOUT,
                    () -> ops.ask(new Message.VariableSet(name, w.bytes(), w.keys())));
        } finally {
            java.lang.ref.Reference.reachabilityFence(value); // its futures hold their keys until the variable does
        }
    }

    /**
     * The value, waiting up to {@code timeout} for one to be set.
     *
     * @throws DistTimeoutException when none was set within {@code timeout}
     */
    @SuppressWarnings("unchecked")
    public T get(Duration timeout) {
        long nanos = Objects.requireNonNull(timeout, "timeout").isNegative() ? 0 : Event.saturated(timeout);
        String op = "Variable.get of '" + name + "'";
        Message m = Calls.call(client.link, op, timeout, "the timeout of Variable.get",
                () -> ops.await(ms -> new Message.VariableGet(name, ms), nanos, r -> r instanceof Message.SharedTimedOut));
        if (m instanceof Message.SharedTimedOut t) {
            throw new DistTimeoutException(op, timeout, "the timeout of Variable.get", t.what(), null);
        }
        return (T) ops.decode((Message.SharedValue) m);
    }

    /** The value, waiting for one to be set however long that takes. */
    public T get() {
        return get(Duration.ofSeconds(Long.MAX_VALUE));
    }

    /** Whether a value is set now. */
    public boolean isSet() {
        Message m = Calls.call(client.link, "Variable.isSet of '" + name + "'", null, Calls.REQUEST_TIMEOUT,
                () -> ops.ask(new Message.VariableIsSet(name)));
        return ((Message.SharedFlag) m).value();
    }

    /** Forgets the value; its futures' data goes once nothing else holds them. */
    public void delete() {
        Calls.call(client.link, "Variable.delete of '" + name + "'", null, Calls.REQUEST_TIMEOUT,
                () -> ops.ask(new Message.VariableDelete(name)));
    }

    @Override
    public String toString() {
        return "Variable[" + name + "]";
    }
}
