package dist.client;

import dist.protocol.TaskSpec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The recipes (task specs) a client sent, kept so that what is still to come can be sent again to a
 * scheduler that restarted. A recipe is kept while a pending future of the client holds its key
 * ("live"), or while a kept recipe needs its key as input (a graph's intermediates). Once its key
 * finished, failed or was released, it goes, and with it the inputs nothing kept needs any more: the
 * client does not hold a copy of every call it ever made. Internal; thread-safe.
 */
public final class Recipes {
    private static final class Node {
        final TaskSpec spec;
        /** A pending future of the client holds the key. */
        boolean live;
        /** Kept nodes that list this key as an input and counted it. */
        int dependents;
        /** The inputs this node counted itself in (those kept when it came). */
        Node[] linked;

        Node(TaskSpec spec) {
            this.spec = spec;
        }
    }

    /** What to send again: recipes, inputs first, and the keys they or the asked ones need that have none. */
    public record Closure(List<TaskSpec> specs, Set<String> withoutRecipe) {
    }

    private static final Node[] NONE = new Node[0];

    private final HashMap<String, Node> nodes = new HashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * Keys settled while another thread held the lock: the scheduler link's reader settles a key per
     * result and never waits for a long {@link #add}; whoever holds the lock next applies them first.
     */
    private final ConcurrentLinkedQueue<String> settled = new ConcurrentLinkedQueue<>();

    /**
     * Records specs just sent. Keys in {@code live} are held by pending futures; the other specs are
     * inputs, kept while a kept recipe needs them.
     */
    public void add(Collection<TaskSpec> specs, Collection<String> live) {
        lock();
        try {
            List<Node> fresh = new ArrayList<>();
            for (TaskSpec s : specs) {
                if (!nodes.containsKey(s.key())) {
                    Node n = new Node(s);
                    nodes.put(s.key(), n);
                    fresh.add(n);
                }
            }
            // linked after all are in: a spec may come before its inputs in the list
            for (Node n : fresh) {
                List<String> deps = n.spec.dependencies();
                if (deps == null || deps.isEmpty()) {
                    n.linked = NONE;
                    continue;
                }
                ArrayList<Node> linked = new ArrayList<>(deps.size());
                for (String d : deps) {
                    Node dn = nodes.get(d);
                    if (dn != null && dn != n) {
                        dn.dependents++;
                        linked.add(dn);
                    }
                }
                n.linked = linked.toArray(NONE);
            }
            for (String k : live) {
                Node n = nodes.get(k);
                if (n != null) {
                    n.live = true;
                }
            }
            for (Node n : fresh) {
                prune(n); // an input nothing live needs: not kept
            }
        } finally {
            unlock();
        }
    }

    /**
     * {@code key} finished, failed, was cancelled or released: its recipe goes once nothing kept needs
     * it. Never waits for the lock: applied now if it is free, else by the thread that holds it.
     */
    public void settle(String key) {
        settled.add(key);
        applySettledIfFree();
    }

    private void applySettledIfFree() {
        while (!settled.isEmpty() && lock.tryLock()) {
            try {
                applySettled();
            } finally {
                lock.unlock();
            }
        }
    }

    /** With the lock held: what was settled before, in order, so a later add of the same key wins. */
    private void applySettled() {
        for (String k; (k = settled.poll()) != null; ) {
            Node n = nodes.get(k);
            if (n != null) {
                n.live = false;
                prune(n);
            }
        }
    }

    private void lock() {
        lock.lock();
        applySettled();
    }

    private void unlock() {
        lock.unlock();
        applySettledIfFree(); // settled while this thread held the lock
    }

    private void prune(Node first) {
        ArrayDeque<Node> todo = null; // made only when a removal frees an input: most recipes have none
        for (Node n = first; n != null; n = todo == null ? null : todo.poll()) {
            // one probe: removed only while it is still the key's node
            if (n.live || n.dependents > 0 || !nodes.remove(n.spec.key(), n)) {
                continue;
            }
            for (Node d : n.linked) {
                if (--d.dependents == 0) {
                    if (todo == null) {
                        todo = new ArrayDeque<>();
                    }
                    todo.add(d);
                }
            }
        }
    }

    /** Whether a recipe of {@code key} is kept. */
    public boolean has(String key) {
        lock();
        try {
            return nodes.containsKey(key);
        } finally {
            unlock();
        }
    }

    /**
     * The recipes of {@code keys} and of everything they need, transitively, inputs first; and the
     * keys among those asked for or needed that have no recipe here.
     */
    public Closure closure(Collection<String> keys) {
        lock();
        try {
            HashSet<String> seen = new HashSet<>();
            ArrayList<TaskSpec> out = new ArrayList<>();
            LinkedHashSet<String> without = new LinkedHashSet<>();
            for (String k : keys) {
                visit(k, seen, out, without);
            }
            return new Closure(out, without);
        } finally {
            unlock();
        }
    }

    private void visit(String root, HashSet<String> seen, List<TaskSpec> out, Set<String> without) {
        if (!seen.add(root)) {
            return;
        }
        Node rn = nodes.get(root);
        if (rn == null) {
            without.add(root);
            return;
        }
        // iterative post-order, so deep chains do not overflow the stack
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[]{rn, 0});
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Node n = (Node) top[0];
            int i = (Integer) top[1];
            List<String> deps = n.spec.dependencies() == null ? List.of() : n.spec.dependencies();
            if (i < deps.size()) {
                top[1] = i + 1;
                String d = deps.get(i);
                if (seen.add(d)) {
                    Node dn = nodes.get(d);
                    if (dn == null) {
                        without.add(d);
                    } else {
                        stack.push(new Object[]{dn, 0});
                    }
                }
            } else {
                stack.pop();
                out.add(n.spec);
            }
        }
    }

    /** The kept recipes that need any of {@code keys}, directly or through other kept recipes. */
    public Set<String> dependentsOf(Collection<String> keys) {
        lock();
        try {
            HashMap<String, List<String>> users = new HashMap<>();
            for (Node n : nodes.values()) {
                List<String> deps = n.spec.dependencies();
                if (deps != null) {
                    for (String d : deps) {
                        users.computeIfAbsent(d, x -> new ArrayList<>(2)).add(n.spec.key());
                    }
                }
            }
            LinkedHashSet<String> out = new LinkedHashSet<>();
            ArrayDeque<String> todo = new ArrayDeque<>(keys);
            while (!todo.isEmpty()) {
                for (String u : users.getOrDefault(todo.poll(), List.of())) {
                    if (out.add(u)) {
                        todo.add(u);
                    }
                }
            }
            return out;
        } finally {
            unlock();
        }
    }

    /** How many recipes are kept. */
    public int size() {
        lock();
        try {
            return nodes.size();
        } finally {
            unlock();
        }
    }

    public void clear() {
        lock();
        try {
            nodes.clear();
        } finally {
            unlock();
        }
    }
}
