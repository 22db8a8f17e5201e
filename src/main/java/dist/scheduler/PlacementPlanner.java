package dist.scheduler;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pure plans for data placement, made by the scheduler for {@link DataPlacementExtension}: where
 * scattered values go, which worker copies from which in a replication generation, which copies
 * go when a key has too many, which keys move in a rebalance. Workers are addresses; no state is read.
 */
final class PlacementPlanner {
    private PlacementPlanner() {
    }

    /**
     * Round-robin grouped by cores: each worker, in order, takes as many consecutive items as it has
     * threads, then the next worker, cycling. With alice and bob at two threads each, ten items go
     * alice [0, 1, 4, 5, 8, 9] and bob [2, 3, 6, 7].
     *
     * @return for each item, the worker it goes to
     */
    static List<String> roundRobin(Map<String, Integer> ncores, int items) {
        return roundRobin(ncores, items, 0);
    }

    /**
     * {@link #roundRobin(Map, int)} starting at slot {@code start} (modulo the slots), so successive
     * scatters carry on where the last stopped, as dask's round-robin counter.
     */
    static List<String> roundRobin(Map<String, Integer> ncores, int items, long start) {
        List<String> slots = new ArrayList<>();
        for (Map.Entry<String, Integer> e : ncores.entrySet()) {
            for (int i = 0; i < Math.max(1, e.getValue() == null ? 1 : e.getValue()); i++) {
                slots.add(e.getKey());
            }
        }
        if (slots.isEmpty()) {
            throw new IllegalArgumentException("no workers to place data on");
        }
        List<String> out = new ArrayList<>(items);
        for (int i = 0; i < items; i++) {
            out.add(slots.get((int) ((start + i) % slots.size())));
        }
        return out;
    }

    /**
     * One generation of a tree copy: every current holder of a key gives it to at most
     * {@code branching} new workers, until the key has {@code n} copies among {@code candidates}.
     * Targets with less data planned so far are chosen first.
     *
     * @param holders    key to the workers holding it now
     * @param candidates workers that may receive copies, in preference order
     * @return target worker to (key to sources to try, the assigned one first)
     */
    static Map<String, Map<String, List<String>>> replicationGeneration(
            Map<String, List<String>> holders, List<String> candidates, int n, int branching) {
        if (branching < 1) {
            throw new IllegalArgumentException("branching factor must be at least 1, got " + branching);
        }
        Map<String, Map<String, List<String>>> plan = new LinkedHashMap<>();
        Map<String, Integer> load = new HashMap<>();
        for (Map.Entry<String, List<String>> e : holders.entrySet()) {
            List<String> have = e.getValue() == null ? List.of() : e.getValue();
            if (have.isEmpty()) {
                continue; // nothing to copy from
            }
            Set<String> held = new LinkedHashSet<>(have);
            long copies = candidates.stream().filter(held::contains).count();
            int want = (int) Math.min(n - copies, (long) have.size() * branching);
            if (want <= 0) {
                continue;
            }
            List<String> free = new ArrayList<>();
            for (String c : candidates) {
                if (!held.contains(c)) {
                    free.add(c);
                }
            }
            free.sort(Comparator.comparingInt(c -> load.getOrDefault(c, 0)));
            for (int j = 0; j < Math.min(want, free.size()); j++) {
                String target = free.get(j);
                String source = have.get(j / branching);
                List<String> sources = new ArrayList<>();
                sources.add(source);
                for (String h : have) {
                    if (!h.equals(source)) {
                        sources.add(h);
                    }
                }
                plan.computeIfAbsent(target, t -> new LinkedHashMap<>()).put(e.getKey(), sources);
                load.merge(target, 1, Integer::sum);
            }
        }
        return plan;
    }

    /**
     * Copies to drop so each key keeps {@code n} among {@code candidates} (never its last copy):
     * key to the workers that should drop it.
     */
    static Map<String, List<String>> excessReplicas(Map<String, List<String>> holders, List<String> candidates,
                                                           int n) {
        Map<String, List<String>> drop = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : holders.entrySet()) {
            List<String> have = e.getValue() == null ? List.of() : e.getValue();
            List<String> inSet = have.stream().filter(candidates::contains).toList();
            int extra = Math.min(inSet.size() - Math.max(n, 0), have.size() - 1);
            if (extra > 0) {
                drop.put(e.getKey(), List.copyOf(inSet.subList(inSet.size() - extra, inSet.size())));
            }
        }
        return drop;
    }

    /** A rebalance step: copy {@code key} from {@code from} to {@code to}, then drop it at {@code from}. */
    record Move(String key, String from, String to, long nbytes) {}

    /**
     * Moves that even out memory between {@code workers}: keys leave workers above the mean for the
     * least loaded worker, as long as the move narrows the gap between the two.
     *
     * @param hasWhat  keys each worker holds (all of them, for its memory)
     * @param nbytes   size of each key
     * @param movable  keys that may move (those of the futures asked for, or all)
     */
    static List<Move> rebalance(Map<String, List<String>> hasWhat, Map<String, Long> nbytes,
                                       List<String> workers, Set<String> movable) {
        Map<String, Long> mem = new LinkedHashMap<>();
        Map<String, Set<String>> held = new HashMap<>();
        long total = 0;
        for (String w : workers) {
            long m = 0;
            Set<String> ks = new LinkedHashSet<>(hasWhat.getOrDefault(w, List.of()));
            for (String k : ks) {
                m += nbytes.getOrDefault(k, 0L);
            }
            mem.put(w, m);
            held.put(w, ks);
            total += m;
        }
        List<Move> moves = new ArrayList<>();
        // a key moves once: a second move of a replica could land on the first one's source, which
        // still holds it until the first copy is listed, and both sources would then drop theirs
        Set<String> moved = new HashSet<>();
        if (workers.size() < 2) {
            return moves;
        }
        double mean = (double) total / workers.size();
        List<String> senders = new ArrayList<>(workers);
        senders.sort(Comparator.comparingLong(mem::get).reversed());
        for (String from : senders) {
            if (mem.get(from) <= mean) {
                break;
            }
            List<String> ks = new ArrayList<>(held.get(from));
            ks.removeIf(k -> !movable.contains(k));
            ks.sort(Comparator.comparingLong((String k) -> nbytes.getOrDefault(k, 0L)).reversed());
            for (String k : ks) {
                long size = nbytes.getOrDefault(k, 0L);
                if (mem.get(from) <= mean) {
                    break;
                }
                if (moved.contains(k)) {
                    continue;
                }
                String to = null;
                for (String w : workers) {
                    if (!w.equals(from) && !held.get(w).contains(k) && (to == null || mem.get(w) < mem.get(to))) {
                        to = w;
                    }
                }
                if (to == null || mem.get(to) + size >= mem.get(from)) {
                    continue; // moving it would not narrow the gap
                }
                moves.add(new Move(k, from, to, size));
                moved.add(k);
                mem.merge(from, -size, Long::sum);
                mem.merge(to, size, Long::sum);
                held.get(from).remove(k);
                held.get(to).add(k);
            }
        }
        return moves;
    }

}
