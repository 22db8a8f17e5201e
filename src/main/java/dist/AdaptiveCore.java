package dist;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The decisions of {@link Adaptive}, as dask's {@code AdaptiveCore}: the scheduler's wish in, a
 * scale action out, the time a value. Up at once to the wanted count (clamped to [minimum,
 * maximum]); down only for a worker recommended for closing {@code waitCount} times in a row, so a
 * short lull between bursts does not churn workers. Any step that is not down clears the counts.
 */
final class AdaptiveCore {

    /** What to do after one step. */
    sealed interface Action {
    }

    /** Nothing. */
    record Same() implements Action {
    }

    /** Start workers until there are {@code n}. */
    record Up(int n) implements Action {
    }

    /** Retire and stop these workers (names). */
    record Down(List<String> workers) implements Action {
    }

    /** Events kept at most; the oldest go first. */
    static final int MAX_EVENTS = 10_000;

    final int minimum;
    final int maximum;
    final int waitCount;
    private final Map<String, Integer> closeCounts = new HashMap<>();
    private final ArrayDeque<Adaptive.ScaleEvent> events = new ArrayDeque<>();
    private int lastTarget;

    AdaptiveCore(int minimum, int maximum, int waitCount) {
        if (minimum < 0 || maximum < minimum) {
            throw new IllegalArgumentException("adapt needs 0 <= minimum <= maximum, got " + minimum + " and " + maximum);
        }
        if (waitCount < 1) {
            throw new IllegalArgumentException("distributed.adaptive.wait-count must be at least 1, got " + waitCount);
        }
        this.minimum = minimum;
        this.maximum = maximum;
        this.waitCount = waitCount;
        this.lastTarget = minimum;
    }

    /** {@code target} clamped to [minimum, maximum], as dask's {@code safe_target}. */
    int clamp(int target) {
        return Math.max(minimum, Math.min(maximum, target));
    }

    /**
     * One interval: {@code target} is the scheduler's wish (not clamped), {@code plan} the workers the
     * manager runs or starts, {@code observed} those registered with the scheduler, {@code toClose}
     * the scheduler's picks to reach the clamped target (best first).
     */
    Action step(Instant now, int target, Set<String> plan, Set<String> observed, List<String> toClose) {
        int t = clamp(target);
        lastTarget = t;
        if (t >= plan.size()) {
            closeCounts.clear();
            if (t == plan.size()) {
                return new Same();
            }
            record(now, plan.size(), t, "the scheduler wants " + target + " workers"
                    + (t != target ? " (kept to " + minimum + ".." + (maximum == Integer.MAX_VALUE ? "inf" : maximum) + ")" : ""));
            return new Up(t);
        }
        // workers that never arrived go first, then the scheduler's picks
        LinkedHashSet<String> candidates = new LinkedHashSet<>();
        for (String w : plan) {
            if (candidates.size() >= plan.size() - t) {
                break;
            }
            if (!observed.contains(w)) {
                candidates.add(w);
            }
        }
        if (t < plan.size() - candidates.size()) {
            for (String w : toClose) {
                if (plan.contains(w) && candidates.size() < plan.size() - t) {
                    candidates.add(w);
                }
            }
        }
        List<String> firm = new ArrayList<>();
        for (String w : candidates) {
            int c = closeCounts.merge(w, 1, Integer::sum);
            if (c >= waitCount) {
                firm.add(w);
            }
        }
        closeCounts.keySet().removeIf(w -> firm.contains(w) || !candidates.contains(w));
        if (firm.isEmpty()) {
            return new Same();
        }
        record(now, plan.size(), plan.size() - firm.size(), "recommended for closing " + waitCount
                + " intervals in a row: " + String.join(", ", firm));
        return new Down(List.copyOf(firm));
    }

    /** The last clamped target. */
    int target() {
        return lastTarget;
    }

    List<Adaptive.ScaleEvent> events() {
        return List.copyOf(events);
    }

    private void record(Instant now, int from, int to, String reason) {
        if (events.size() == MAX_EVENTS) {
            events.removeFirst();
        }
        events.addLast(new Adaptive.ScaleEvent(now, from, to, reason));
    }
}
