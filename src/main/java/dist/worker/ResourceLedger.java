package dist.worker;

import java.util.HashMap;
import java.util.Map;

/**
 * What a worker offers of its abstract resources (e.g. {@code GPU=2}) and what executing tasks
 * hold of them. The scheduler places tasks by resources too, but it lets go of a task's share when
 * the task is released; the task's code may still run here, so this ledger, not the scheduler's,
 * decides when a task that needs resources starts.
 *
 * <pre>{@code
 * ResourceLedger r = new ResourceLedger();
 * r.offer(Map.of("GPU", 1.0));
 * if (r.fits(needs)) r.acquire(needs);   // ... and r.release(needs) when the task's code ends
 * }</pre>
 */
final class ResourceLedger {
    private static final double EPSILON = 1e-9;
    private Map<String, Double> offered = Map.of();
    private final HashMap<String, Double> held = new HashMap<>();

    void offer(Map<String, Double> resources) {
        offered = resources == null ? Map.of() : Map.copyOf(resources);
    }

    /**
     * The part of {@code needs} this worker offers and could ever satisfy, or null when none: a need
     * this worker cannot meet at all was the scheduler's decision, and waiting here would be forever.
     */
    Map<String, Double> relevant(Map<String, Double> needs) {
        if (needs == null || needs.isEmpty() || offered.isEmpty()) {
            return null;
        }
        HashMap<String, Double> out = null;
        for (Map.Entry<String, Double> e : needs.entrySet()) {
            Double total = offered.get(e.getKey());
            double amount = e.getValue() == null ? 0 : e.getValue();
            if (total != null && amount > 0 && amount <= total + EPSILON) {
                if (out == null) {
                    out = new HashMap<>(4);
                }
                out.put(e.getKey(), amount);
            }
        }
        return out;
    }

    boolean fits(Map<String, Double> needs) {
        if (needs == null) {
            return true;
        }
        for (Map.Entry<String, Double> e : needs.entrySet()) {
            if (held.getOrDefault(e.getKey(), 0.0) + e.getValue() > offered.get(e.getKey()) + EPSILON) {
                return false;
            }
        }
        return true;
    }

    void acquire(Map<String, Double> needs) {
        if (needs != null) {
            needs.forEach((k, v) -> held.merge(k, v, Double::sum));
        }
    }

    void release(Map<String, Double> needs) {
        if (needs != null) {
            needs.forEach((k, v) -> held.computeIfPresent(k, (kk, h) -> h - v <= EPSILON ? null : h - v));
        }
    }
}
