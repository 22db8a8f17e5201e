package dist.scheduler;

import dist.protocol.Message.KeyErred;
import dist.protocol.TaskOptions;
import dist.protocol.TaskSpec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Checks a client's update before anything of it is applied, so a refused update changes nothing:
 * every task has a key, its options make sense, and no task waits on its own result.
 *
 * <pre>{@code
 * GraphCheck.check(update.tasks(), tasks::get); // throws IllegalArgumentException naming the problem
 * }</pre>
 */
final class GraphCheck {
    private GraphCheck() {
    }

    /**
     * What the client hears when its update is refused: each wanted key the scheduler does not
     * already hold for this client fails with the reason. Its futures for keys it wanted before stay.
     */
    static List<KeyErred> refusal(ClientState c, List<String> wanted, IllegalArgumentException e,
                                  Function<String, TaskState> known) {
        if (wanted == null) {
            return List.of();
        }
        String cause = e instanceof Refused g ? g.key : null;
        String why = "the scheduler refused the update that submitted this key: " + e.getMessage();
        LinkedHashSet<String> told = new LinkedHashSet<>();
        ArrayList<KeyErred> out = new ArrayList<>();
        for (String key : wanted) {
            if (key == null || !told.add(key)) {
                continue;
            }
            TaskState ts = known.apply(key);
            if (ts != null && c.wants.contains(ts)) {
                continue;
            }
            out.add(new KeyErred(key, null, why, cause == null ? key : cause));
        }
        return out;
    }

    /** An update refused because of one of its tasks, named here: its futures fail with the reason. */
    static final class Refused extends IllegalArgumentException {
        final String key;

        Refused(String key, String message) {
            super(message);
            this.key = key;
        }
    }

    /**
     * Checks an update before anything of it is applied: every task has a key, its options make
     * sense, and no task waits on its own result through the tasks of this update (a cycle would
     * wait forever). Tasks already known cannot depend on new ones, so a cycle lies within the update.
     */
    static void check(List<TaskSpec> specs, Function<String, TaskState> known) {
        boolean anyDeps = false;
        for (int i = 0; i < specs.size(); i++) {
            TaskSpec s = specs.get(i);
            if (s == null || s.key() == null) {
                throw new IllegalArgumentException("UpdateGraph.tasks[" + i + "] has no key: every task needs a key");
            }
            checkOptions(s);
            anyDeps |= s.dependencies() != null && !s.dependencies().isEmpty();
        }
        if (!anyDeps || pointsOnlyBack(specs) || !namesUnknownKeys(specs, known)) {
            return; // every dependency is a task known already: none leads back into this update
        }
        // the tasks this update creates: the first spec of each key not known yet (as applied below)
        HashMap<String, TaskSpec> fresh = new HashMap<>();
        for (TaskSpec s : specs) {
            if (known.apply(s.key()) == null) {
                fresh.putIfAbsent(s.key(), s);
            }
        }
        List<String> cycle = findCycle(fresh);
        if (cycle != null) {
            throw new Refused(cycle.get(0), "the graph has a cycle: " + String.join(" -> ", cycle)
                    + " (a task cannot wait on its own result); nothing of this update was applied");
        }
    }

    /**
     * Whether every dependency naming a task of this update names one listed before the dependent:
     * then the update's own edges all point back and cannot close a cycle. Clients list tasks in
     * dependency order, so this one pass with a key index usually spares the full search below.
     */
    private static boolean pointsOnlyBack(List<TaskSpec> specs) {
        int n = specs.size();
        int cap = Integer.highestOneBit(Math.max(2, n) * 2) * 2; // under half full
        String[] keys = new String[cap];
        int[] first = new int[cap];
        int mask = cap - 1;
        for (int i = 0; i < n; i++) {
            String k = specs.get(i).key();
            int j = slot(keys, k, mask);
            if (keys[j] == null) {
                keys[j] = k;
                first[j] = i;
            }
        }
        for (int i = 0; i < n; i++) {
            List<String> deps = specs.get(i).dependencies();
            if (deps == null) {
                continue;
            }
            for (int d = 0, m = deps.size(); d < m; d++) {
                String k = deps.get(d);
                if (k == null) {
                    continue;
                }
                int j = slot(keys, k, mask);
                if (keys[j] != null && first[j] >= i) {
                    return false; // itself or a task listed later: the full search decides
                }
            }
        }
        return true;
    }

    /** The slot of {@code k} in an open-addressing table of keys, or the empty slot where it would go. */
    private static int slot(String[] keys, String k, int mask) {
        int h = k.hashCode() * 0x9E3779B9;
        for (int j = (h ^ (h >>> 16)) & mask; ; j = (j + 1) & mask) {
            String x = keys[j];
            if (x == null || x.equals(k)) {
                return j;
            }
        }
    }

    private static boolean namesUnknownKeys(List<TaskSpec> specs, Function<String, TaskState> known) {
        for (TaskSpec s : specs) {
            if (s.dependencies() != null) {
                for (String d : s.dependencies()) {
                    if (d != null && known.apply(d) == null) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static void checkOptions(TaskSpec s) {
        TaskOptions o = s.options();
        if (o == null || o.resources() == null) {
            return;
        }
        for (Map.Entry<String, Double> e : o.resources().entrySet()) {
            Double v = e.getValue();
            if (e.getKey() == null || v == null || !(v >= 0) || v.isInfinite()) {
                throw new Refused(s.key(), "task " + s.key() + " asks for resource " + e.getKey() + "=" + v
                        + ": resources need a name and a finite amount of 0 or more, e.g. GPU=1");
            }
        }
    }

    /**
     * A cycle among {@code fresh} tasks as its keys, the first repeated at the end, or null. Iterative
     * (a chain of a million tasks must not overflow the stack); each task is visited once.
     */
    private static List<String> findCycle(HashMap<String, TaskSpec> fresh) {
        final byte onPath = 1, done = 2;
        HashMap<String, Byte> mark = new HashMap<>(fresh.size() * 2);
        ArrayList<String> path = new ArrayList<>();
        ArrayList<Integer> next = new ArrayList<>(); // per path entry: the index of its next dependency
        for (String root : fresh.keySet()) {
            if (mark.containsKey(root)) {
                continue;
            }
            path.add(root);
            next.add(0);
            mark.put(root, onPath);
            while (!path.isEmpty()) {
                int top = path.size() - 1;
                List<String> deps = fresh.get(path.get(top)).dependencies();
                int i = next.get(top);
                if (deps == null || i >= deps.size()) {
                    mark.put(path.remove(top), done);
                    next.remove(top);
                    continue;
                }
                next.set(top, i + 1);
                String d = deps.get(i);
                if (d == null || !fresh.containsKey(d)) {
                    continue; // a known task or a missing one: no way back into this update
                }
                Byte m = mark.get(d);
                if (m == null) {
                    path.add(d);
                    next.add(0);
                    mark.put(d, onPath);
                } else if (m == onPath) {
                    ArrayList<String> cycle = new ArrayList<>(path.subList(path.lastIndexOf(d), path.size()));
                    cycle.add(d);
                    return cycle;
                }
            }
        }
        return null;
    }
}
