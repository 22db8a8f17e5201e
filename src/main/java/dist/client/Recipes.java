package dist.client;

import dist.protocol.TaskSpec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The recipes (task specs) a client sent, kept while a future holds their key or a kept recipe
 * needs them as input, so that the graph can be sent again to a scheduler that restarted.
 * Internal; thread-safe.
 */
public final class Recipes {
    private static final class Node {
        final TaskSpec spec;
        boolean held;
        int dependents;

        Node(TaskSpec spec) {
            this.spec = spec;
        }
    }

    private final HashMap<String, Node> nodes = new HashMap<>();
    private final ReentrantLock lock = new ReentrantLock();

    /** Records the specs just sent; each one's key is held by a future. */
    public void add(Collection<TaskSpec> specs) {
        lock.lock();
        try {
            for (TaskSpec s : specs) {
                Node n = nodes.get(s.key());
                if (n != null) {
                    n.held = true;
                    continue;
                }
                n = new Node(s);
                n.held = true;
                nodes.put(s.key(), n);
                for (String d : s.dependencies()) {
                    Node dn = nodes.get(d);
                    if (dn != null) {
                        dn.dependents++;
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** No future holds {@code key} any more: its recipe goes once nothing kept depends on it. */
    public void release(String key) {
        lock.lock();
        try {
            Node n = nodes.get(key);
            if (n != null) {
                n.held = false;
                prune(key);
            }
        } finally {
            lock.unlock();
        }
    }

    private void prune(String key) {
        ArrayDeque<String> todo = new ArrayDeque<>();
        todo.add(key);
        while (!todo.isEmpty()) {
            String k = todo.poll();
            Node n = nodes.get(k);
            if (n == null || n.held || n.dependents > 0) {
                continue;
            }
            nodes.remove(k);
            for (String d : n.spec.dependencies()) {
                Node dn = nodes.get(d);
                if (dn != null && --dn.dependents == 0) {
                    todo.add(d);
                }
            }
        }
    }

    /** The recipes of {@code keys} and of everything they need, transitively, inputs first. */
    public List<TaskSpec> closure(Collection<String> keys) {
        lock.lock();
        try {
            LinkedHashSet<String> seen = new LinkedHashSet<>();
            ArrayList<TaskSpec> out = new ArrayList<>();
            for (String k : keys) {
                visit(k, seen, out);
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    private void visit(String root, LinkedHashSet<String> seen, List<TaskSpec> out) {
        // iterative post-order, so deep chains do not overflow the stack
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        if (!seen.add(root) || !nodes.containsKey(root)) {
            return;
        }
        stack.push(new Object[]{nodes.get(root), 0});
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Node n = (Node) top[0];
            int i = (Integer) top[1];
            List<String> deps = n.spec.dependencies();
            if (i < deps.size()) {
                top[1] = i + 1;
                String d = deps.get(i);
                Node dn = nodes.get(d);
                if (dn != null && seen.add(d)) {
                    stack.push(new Object[]{dn, 0});
                }
            } else {
                stack.pop();
                out.add(n.spec);
            }
        }
    }

    /** How many recipes are kept. */
    public int size() {
        lock.lock();
        try {
            return nodes.size();
        } finally {
            lock.unlock();
        }
    }

    public void clear() {
        lock.lock();
        try {
            nodes.clear();
        } finally {
            lock.unlock();
        }
    }
}
