package dist;

import dist.client.SpanScope;

/**
 * A named stretch of work, as dask's {@code span}: every task this thread submits while it is open
 * carries its id (and those of the spans around it), and the scheduler keeps totals per span (see
 * {@link Client#spans()}, the dashboard's spans table and {@code /api/spans}).
 *
 * <pre>{@code
 * try (Span etl = client.span("etl")) {
 *     try (Span load = client.span("load")) {
 *         client.submit(Main::load, "a.csv").result();
 *     }
 * }
 * }</pre>
 */
public final class Span implements AutoCloseable {
    private final String id;

    Span(String name) {
        this.id = SpanScope.open(name);
    }

    /** The span's id: its name, '#' and eight hex digits ("etl#3f2a9c01"). */
    public String id() {
        return id;
    }

    /** The name it was opened with. */
    public String name() {
        return id.substring(0, id.lastIndexOf('#'));
    }

    /** Tasks submitted on this thread from now on are outside this span (and the ones opened in it). Idempotent. */
    @Override
    public void close() {
        SpanScope.close(id);
    }

    @Override
    public String toString() {
        return id;
    }
}
