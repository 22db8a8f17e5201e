package dist.client;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The spans open on the current thread, outermost first: tasks submitted on it carry their ids (see
 * {@link WireOptions#of}). Thread-local, so a span tags what its own thread submits and nothing else. Internal.
 */
public final class SpanScope {
    private static final ThreadLocal<List<String>> OPEN = new ThreadLocal<>();

    private SpanScope() {
    }

    /** Opens span {@code name} inside the current ones and returns its id ("name#8hex"). */
    public static String open(String name) {
        if (name == null || name.isBlank() || name.indexOf('#') >= 0) {
            throw new IllegalArgumentException("a span needs a name without '#', not " + name);
        }
        String id = name + "#" + UUID.randomUUID().toString().substring(0, 8);
        List<String> now = OPEN.get();
        List<String> next = new ArrayList<>(now == null ? List.of() : now);
        next.add(id);
        OPEN.set(List.copyOf(next));
        return id;
    }

    /** Closes span {@code id} and the spans opened inside it on this thread. */
    public static void close(String id) {
        List<String> now = OPEN.get();
        int at = now == null ? -1 : now.indexOf(id);
        if (at < 0) {
            return; // closed already, or opened on another thread
        }
        OPEN.set(at == 0 ? null : List.copyOf(now.subList(0, at)));
    }

    /** The ids of the open spans, outermost first; null when none is open. */
    public static List<String> current() {
        return OPEN.get();
    }
}
