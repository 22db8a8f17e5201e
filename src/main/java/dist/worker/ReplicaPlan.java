package dist.worker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where a worker fetches the keys it was asked to keep ({@code AcquireData}: replicate, rebalance):
 * each key from the first of its sources not tried yet, skipping this worker; a key none of whose
 * sources had it is missing. Pure: the shell does the fetches and says what arrived.
 *
 * <pre>{@code
 * ReplicaPlan plan = new ReplicaPlan(self, sources, heldHere);
 * while (!plan.done()) {
 *     for (var e : plan.nextRound().entrySet()) {   // peer -> keys, one request each
 *         fetched(e.getKey(), e.getValue()).forEach(plan::arrived);
 *     }
 * }
 * reply(plan.got(), plan.missing());
 * }</pre>
 *
 * <p>Not thread-safe: one thread owns an instance.
 */
final class ReplicaPlan {
    private final String self;
    /** key -> sources left to try, for keys not here yet. */
    private final Map<String, List<String>> todo = new LinkedHashMap<>();
    /** peer -> the keys asked of it in the current round. */
    private final Map<String, List<String>> round = new LinkedHashMap<>();
    private final Map<String, Long> got = new LinkedHashMap<>();
    private final List<String> missing = new ArrayList<>();

    /**
     * @param self     this worker's address, never a source
     * @param sources  key -> peers said to hold it (null entries are ignored)
     * @param heldHere key -> size of the keys already held here (they need no fetch)
     */
    ReplicaPlan(String self, Map<String, List<String>> sources, Map<String, Long> heldHere) {
        this.self = self;
        for (Map.Entry<String, List<String>> e : (sources == null ? Map.<String, List<String>>of() : sources)
                .entrySet()) {
            String key = e.getKey();
            if (key == null) {
                continue;
            }
            Long here = heldHere.get(key);
            if (here != null) {
                got.put(key, here);
            } else {
                todo.put(key, new ArrayList<>(e.getValue() == null ? List.of() : e.getValue()));
            }
        }
    }

    /** Whether every key is here or known missing. */
    boolean done() {
        return todo.isEmpty();
    }

    /**
     * The next requests, peer -> keys: each key not here yet from its next untried source. Keys
     * with no source left become missing. Keys of the previous round that did not arrive are tried
     * at their next source.
     */
    Map<String, List<String>> nextRound() {
        round.clear();
        for (var it = todo.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, List<String>> e = it.next();
            List<String> left = e.getValue();
            left.removeIf(p -> p == null || p.equals(self));
            if (left.isEmpty()) {
                missing.add(e.getKey());
                it.remove();
            } else {
                round.computeIfAbsent(left.remove(0), p -> new ArrayList<>()).add(e.getKey());
            }
        }
        return Map.copyOf(round);
    }

    /** {@code key} arrived with {@code nbytes} bytes (from the peer it was asked of). */
    void arrived(String key, long nbytes) {
        if (todo.remove(Objects.requireNonNull(key)) != null) {
            got.put(key, nbytes);
        }
    }

    /** Every key held here now, with its size: those already here and those that arrived. */
    Map<String, Long> got() {
        return got;
    }

    /** Keys none of whose sources had them. */
    List<String> missing() {
        return missing;
    }
}
