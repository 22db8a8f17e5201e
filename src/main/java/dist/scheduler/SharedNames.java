package dist.scheduler;

import java.util.Map;
import java.util.function.Supplier;

/**
 * The names of one kind of shared object (events, variables, topics, queues): a name must not be
 * empty, and a table holds at most {@code distributed.scheduler.shared-max-names} of them, so no
 * peer can fill the scheduler with names.
 */
final class SharedNames {
    private SharedNames() {
    }

    /** {@code name}, or an error saying that {@code kind} (e.g. "event") needs one. */
    static String checked(String kind, String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException((startsWithVowel(kind) ? "an " : "a ") + kind + " needs a non-empty name");
        }
        return name;
    }

    /** The object named {@code name} in {@code table}, made by {@code make} when there is none. */
    static <V> V getOrMake(Map<String, V> table, String kind, String name, int max, Supplier<V> make) {
        V v = table.get(checked(kind, name));
        return v != null ? v : make(table, kind, name, max, make);
    }

    /** Adds a new object named {@code name}, refused when the table holds {@code max} already. */
    static <V> V make(Map<String, V> table, String kind, String name, int max, Supplier<V> make) {
        if (table.size() >= max) {
            throw new IllegalArgumentException("the scheduler holds " + table.size() + " " + kind + "s already, its limit"
                    + " (distributed.scheduler.shared-max-names); " + kind + " '" + name + "' was not made");
        }
        V v = make.get();
        table.put(name, v);
        return v;
    }

    private static boolean startsWithVowel(String s) {
        return !s.isEmpty() && "aeiou".indexOf(s.charAt(0)) >= 0;
    }
}
